"""Report metadata from content: era, report year, agency, title, publish date.

Everything is read from the document itself (title, page metadata, opening
sentence, signature), never from the file name. The era comes from the format's
markers, not from the year: late and early adopters of each format exist.
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from itertools import islice

from warehouse.deadlines import PAGE_FIELD, SIGNED_DATE, URL_PATH  # where a publication date came from
from warehouse.eras import era_by_words, first_table_year, prose_era, table_era_for_year
from warehouse.parse.documents import Document
from warehouse.parse.numbers import parse_chinese_number
from warehouse.parse.textnorm import normalise_text

# ---------------------------------------------------------------- shared helpers

# Crawler dumps: a header block (标题/发布时间/原文链接/本地目录) then this marker.
_BODY_MARKER = re.compile(r"=+\s*正文\s*=+")
_HEADER_FIELD = r"(?m)^\s*{name}\s*[:：]\s*\|?\s*([^|\n]*)"

_YEAR = r"(20[0-4]\d)"
_REPORT_WORDS = r"(?:年度报告|年报|工作报告|年度工作报告|公开报告)"
# '…2019年政府信息公开工作年度报告', '2013年度谢塘镇政府信息公开工作年度报告', '…信息公开年报'
_TITLE_YEAR = re.compile(_YEAR + r"\s*年\s*度?[^。；\n]{0,24}?信息公开[^。；\n]{0,8}?" + _REPORT_WORDS)
# '自2014年1月1日起至2014年12月31日止', '2010年1月1日至12月31日', dropped characters '202511日至1231日'
_PERIOD_YEAR = re.compile(_YEAR + r"\s*年?\s*1\s*月?\s*1\s*日\s*(?:起)?\s*(?:至|到|—|-)")
_YEAR_MENTION = re.compile(_YEAR + r"\s*年(?!\s*\d{1,2}\s*月\s*\d{1,2}\s*日前)")
# The report's own name quoted in its opening: '编写了《…2020年度政府信息公开工作年度报告(文字版)》'.
# Only a bracketed note may follow the report words ('…年度报告的通知》' names a notice).
_QUOTED_REPORT_YEAR = re.compile(r"《[^《》]{0,40}?" + _YEAR + r"\s*年\s*度?[^《》]{0,24}?信息公开[^《》]{0,8}?"
                                 + _REPORT_WORDS + r"\s*(?:\([^()《》]{0,8}\))?》")
# Years inside document numbers (〔2019〕60号) are not the year reported on.
_DOC_NUMBER_YEAR = re.compile(r"[〔\[［(（]\s*20\d\d\s*[〕\]］)）]")

# Spam mirrors replace names with gambling ads; such names are never an agency's.
_SPAM = re.compile(r"博彩|娱乐|赌|彩票|棋牌|真人|投注|官网|葡京|威尼斯人|体育平台")
# Words that stand for a body without naming it.
_GENERIC_NAMES = {"政府", "本级政府", "本机关", "我局", "我委", "我办", "本局", "本单位", "区", "县", "市", "镇", "乡"}
_AGENCY_END = (r"(?:人民政府办公室|人民政府办公厅|人民政府|办公室|办公厅|管理委员会|管委会|委员会|"
               r"局|委|厅|办|署|中心|街道办事处|办事处|街道|镇|乡|区|县|市|院|所|站|会)")


def _norm(text: str) -> str:
    return normalise_text(text).text


def body_text(text: str) -> str:
    """The report body of a crawler dump (after '==== 正文 ===='), else the whole text."""
    head = text[:5000]
    # The regex tries every position (it opens with a repeat): look for its word first.
    m = _BODY_MARKER.search(head) if "正文" in head else None
    return text[m.end():] if m else text


def _header_field(text: str, *names: str) -> str | None:
    head = text[:3000]
    for name in names:
        # the regex tries every line start: look for the field's name first
        m = re.search(_HEADER_FIELD.format(name=name), head) if name in head else None
        if m and m.group(1).strip():
            return m.group(1).strip()
    return None


# ---------------------------------------------------------------- title

def _looks_like_title(line: str) -> bool:
    line = line.strip(" |#\t")
    if re.search(r"位置|首页|[>|:：]", line):  # breadcrumbs and metadata lines
        return False
    norm = _norm(line)
    return (4 <= len(line) <= 80 and not line.endswith(("。", "；", "，"))
            and re.search(r"报告|年报", norm) is not None and "信息公开" in norm)


@lru_cache(maxsize=8)  # detect_title runs for the year, the agency and the report itself
def _title_from_lines(text: str) -> str | None:
    stripped = (ln.strip(" |#\t\u3000") for ln in body_text(text).splitlines())
    lines = list(islice(filter(None, stripped), 15))  # the first 15 lines with text
    for i, line in enumerate(lines):
        if _looks_like_title(line):
            # The body's name may sit on the line above: '五常市民意乡' + '2021年…年度报告'.
            prev = lines[i - 1] if i else ""
            if re.match(r"\s*20\d\d", line) and re.fullmatch(r"[\u4e00-\u9fff]{2,30}?" + _AGENCY_END, prev):
                return prev + line
            return line
        # A title split over two lines: '…信息公开工作' + '年度报告'.
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if len(line) <= 60 and re.fullmatch(r"(?:工作)?年度报告|年报", nxt) and _looks_like_title(line + nxt):
            return line + nxt
    return None


@lru_cache(maxsize=8)  # asked with _title_from_lines, once per detect_title call
def _quoted_title(text: str) -> str | None:
    """The report's own name quoted in its opening (as printed, without its 《》), for
    reports with no title line."""
    opening = body_text(text)[:3000]
    norm = normalise_text(opening)
    m = _QUOTED_REPORT_YEAR.search(norm.text)
    return opening[slice(*norm.original_span(m.start() + 1, m.end() - 1))] if m else None


def detect_title(doc: Document) -> str | None:
    candidates = [doc.title, _header_field(doc.text, "标题"), doc.meta.get("ArticleTitle")]
    from_lines = _title_from_lines(doc.text) or _quoted_title(doc.text)
    for title in candidates:
        if title and _looks_like_title(title):
            title = title.strip(" |#\t")
            # Prefer the body's lines when they add the name printed above the title.
            return from_lines if from_lines and from_lines.endswith(title) else title
    return from_lines


# ---------------------------------------------------------------- listing pages and era

def is_listing_page(text: str) -> bool:
    """A column page listing many reports (links + dates), not a report itself."""
    return _is_listing_norm(_norm(text))


@lru_cache(maxsize=8)  # asked by detect_era and detect_year of the same text
def _is_listing_norm(norm: str) -> bool:
    """is_listing_page on text already normalised."""
    titles = set(re.findall(_YEAR + r"年[^。；\n<>\"]{0,20}?信息公开[^。；\n<>\"]{0,6}?" + _REPORT_WORDS, norm))
    pagination = re.search(r"共\s*(?:计)?\s*\d+\s*页|下一页|尾页|countPage", norm)
    body_sentences = len(re.findall(r"主动公开[^。]{0,30}?\d+\s*[条件项]", norm))
    return len(titles) >= 3 and pagination is not None and body_sentences == 0


# Headings every table layout prints (table 三 rows, table 四 title).
_TABLE_HEADINGS = ("本年新收政府信息公开申请数量", "上年结转政府信息公开申请数量", "结转下年度继续办理",
                  "第二十条第(一)项", "第二十条第（一）项", "三安全一稳定", "收到和处理政府信息公开申请",
                  "政府信息公开行政复议、行政诉讼情况", "政府信息公开行政复议和行政诉讼情况")
# The table layouts' outline, first part (era P reports open with 一、概述): a marker only with
# a report year of a table era, since a few earlier reports use the words too.
_TABLE_OUTLINE = re.compile(r"一[、.][^。\n]{0,10}总体情况|\(二\)依申请公开(?:情况)?[。\n]")


def _is_disclosure_report(compact: str) -> bool:
    return "信息公开" in compact and re.search(
        r"信息公开[^。]{0,10}?(?:年度报告|年报|工作报告)|主动公开|依申请公开", compact) is not None


def detect_era(doc: Document) -> str | None:
    norm = doc.normalised.text
    compact = "".join(norm.split())  # no white space (str.split's is the regex \s), faster than re.sub
    if _is_listing_norm(norm) or not _is_disclosure_report(compact):
        return None
    era = era_by_words(compact)          # the layout's own words or notice (warehouse.eras)
    if era is not None:
        return era.name
    table_headings = any(m in compact for m in _TABLE_HEADINGS)
    if table_headings or _TABLE_OUTLINE.search(compact):
        # The table format's outline without its tables (tables as images, text cut):
        # the year picks the version.
        year = detect_year(doc)
        if table_headings or (year is not None and year >= first_table_year()):
            return table_era_for_year(year).name
    return prose_era().name


# ---------------------------------------------------------------- report year

def _year_from_title(title: str | None) -> int | None:
    if not title:
        return None
    m = _TITLE_YEAR.search(_norm(title))
    return int(m.group(1)) if m else None


def _most_mentioned_year(text: str) -> int | None:
    """Fallback: the year the opening part of the body speaks about most."""
    opening = _DOC_NUMBER_YEAR.sub("", text[:3000])
    years = Counter(int(y) for y in _YEAR_MENTION.findall(opening))
    return years.most_common(1)[0][0] if years else None


def detect_year(doc: Document) -> int | None:
    if _is_listing_norm(doc.normalised.text):
        return None
    body = body_text(doc.text)
    body = doc.normalised.text if body is doc.text else _norm(body)
    for finder in (lambda: _year_from_title(detect_title(doc)),
                   lambda: _first_int(_QUOTED_REPORT_YEAR, body[:3000]),
                   lambda: _first_int(_PERIOD_YEAR, body),
                   lambda: _first_int(_TITLE_YEAR, _DOC_NUMBER_YEAR.sub("", body[:3000])),
                   lambda: _most_mentioned_year(body)):
        year = finder()
        if year:
            return year
    return None


def _first_int(pattern: re.Pattern, text: str) -> int | None:
    m = pattern.search(text)
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------- agency

def _clean_agency(name: str | None) -> str | None:
    if not name:
        return None
    name = re.sub(r"[\s|]+", "", name).strip("：:，,。")
    name = re.sub(r"^(?:关于|现将|特向社会公布|由)", "", name)
    if name in _GENERIC_NAMES:
        return None
    if not (2 <= len(name) <= 40) or _SPAM.search(name) or re.search(r"\d{4}|报告|信息公开", name):
        return None
    return name


def _agency_from_title(title: str | None) -> str | None:
    if not title:
        return None
    title = re.sub(r"^\s*关于", "", title.strip(" |#"))
    # '平潭综合实验区2011年…' (name before the year) or '2013年度谢塘镇政府信息公开…' (after it).
    m = re.match(r"(.+?)\s*20\d\d\s*年", title)
    if m and _clean_agency(m.group(1)):
        return _clean_agency(m.group(1))
    m = re.match(r"\s*20\d\d\s*年\s*度?\s*(.+?)(?:政府)?信息公开", title)
    return _clean_agency(m.group(1)) if m else None


def _agency_from_opening(body: str) -> str | None:
    # '…由中原区审计局编制', '…由福州市晋安区人民政府信息公开办编制'
    m = re.search(r"由([^，。、《》()（）]{2,30}?" + _AGENCY_END + r")(?:信息公开[^，。]{0,8})?(?:编制|根据|依据)", _norm(body[:2000]))
    return _clean_agency(m.group(1)) if m else None


def _agency_from_signature(body: str) -> str | None:
    lines = [ln.strip(" |\t\u3000") for ln in body.strip().splitlines() if ln.strip(" |\t\u3000")]
    for line in reversed(lines[-4:]):
        if re.fullmatch(r"[\u4e00-\u9fff（）()]{3,30}?" + _AGENCY_END, line):
            return _clean_agency(line)
    return None


def detect_agency(doc: Document) -> str | None:
    body = body_text(doc.text)
    candidates = (
        lambda: _agency_from_title(detect_title(doc)),
        lambda: doc.meta.get("发布机构") or doc.meta.get("ContentSource"),
        lambda: _header_field(doc.text, "发布机构", "发布单位", "来源", "信息来源"),
        lambda: _agency_from_opening(body),
        lambda: _agency_from_signature(body),
    )
    for candidate in candidates:
        name = _clean_agency(candidate())
        if name:
            return name
    return None


# ---------------------------------------------------------------- publish date

_ISO_DATE = re.compile(r"(20\d\d)[-/.年](\d{1,2})[-/.月](\d{1,2})")
_CN_DATE = re.compile(r"([二〇○零一三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日")


def _iso(year: int, month: int, day: int) -> str | None:
    return f"{year:04d}-{month:02d}-{day:02d}" if 1 <= month <= 12 and 1 <= day <= 31 else None


def _cn_year(digits: str) -> int | None:
    values = [parse_chinese_number(ch) for ch in digits]
    return None if None in values else int("".join(str(v) for v in values))


# A closing line that dates the figures, not the report: 统计时间/时限, 截至/截止 …, a period 日至/日起.
_PERIOD_LINE = re.compile(r"统计|截至|截止|期限|时限|期间|日至|日起|起至")


def _signature_date(body: str) -> str | None:
    # Only a date standing on one of the last lines is the signature's.
    last_lines = [ln.strip() for ln in body.strip().splitlines()[-3:]]
    tail = _norm("\n".join(ln for ln in last_lines if len(ln) <= 40 and not _PERIOD_LINE.search(ln)))
    iso = [m for m in _ISO_DATE.finditer(tail)]
    if iso:
        y, mth, d = (int(g) for g in iso[-1].groups())
        return _iso(y, mth, d)
    cn = [m for m in _CN_DATE.finditer(tail)]
    if cn:
        m = cn[-1]
        year, month, day = _cn_year(m.group(1)), parse_chinese_number(m.group(2)), parse_chinese_number(m.group(3))
        return _iso(year, month, day) if year and month and day else None
    return None


DATE_SOURCES = (PAGE_FIELD, SIGNED_DATE, URL_PATH)

# '发布时间：2021-01-18', '公开日期: 2015-03-11'; a bare '时间:' only at a line's start (the
# header field), never the end of '成文时间' or '统计时间'.
_PAGE_DATE_FIELD = re.compile(r"(?:发布日期|发布时间|公开日期|(?<![\u4e00-\u9fff])时间)\s*[:：]\s*\|?\s*"
                              r"(20\d\d-\d{1,2}-\d{1,2})")
_SIGNED_FIELD = re.compile(r"成文(?:日期|时间)\s*[:：]\s*\|?\s*(20\d\d\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2})")


def _iso_of(stated: str | None) -> str | None:
    m = _ISO_DATE.search(stated) if stated else None
    return _iso(*(int(g) for g in m.groups())) if m else None


def detect_published(doc: Document) -> tuple[str | None, str | None]:
    """(ISO date, where it came from): the page's publication field (`page_field`), else its
    成文日期 or the date under the signature (`signed_date`), else (None, None). The date in
    the URL is the parse stage's to add: a document does not know its URL."""
    stated = (doc.meta.get("发布日期") or doc.meta.get("PubDate")
              or _header_field(doc.text, "发布日期", "发布时间", "公开日期", "时间"))
    if not stated:
        m = _PAGE_DATE_FIELD.search(doc.text[:3000])
        stated = m.group(1) if m else None
    date = _iso_of(stated)
    if date:
        return date, PAGE_FIELD
    m = _SIGNED_FIELD.search(doc.text[:3000])
    date = _iso_of(re.sub(r"\s+", "", m.group(1))) if m else None
    date = date or _signature_date(body_text(doc.text))
    return (date, SIGNED_DATE) if date else (None, None)


def detect_published_date(doc: Document) -> str | None:
    return detect_published(doc)[0]
