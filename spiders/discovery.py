"""Shared heuristics for finding annual reports: pure functions over titles, URLs and HTML.

No Scrapy here: the site families (spiders.families) build on these, and tests call them on
saved pages. Titles (normalisation, report and column titles, the year of a title), URL shapes
(report pages, attachments), link resolution against a source's allow-list, and the static
page's links sorted by kind (classify_links: reports, attachments, columns, pagination as
rendered index_N.html links and TRS createPageHTML(...) / countPage scripts).
"""
from __future__ import annotations

import posixpath
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Iterator
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

import lxml.html

from spiders.origins import AllowList, as_allow_list, url_refusal

# --- titles -------------------------------------------------------------------------

# Traditional → simplified for the characters that occur in report titles and in the
# notices we must tell apart from reports (a full converter is not needed for this).
_TRADITIONAL = str.maketrans(
    "開報資訊務縣區關於編製計預決點統辦廳發會議導圖讀審評檢訓覽門國書記據佈財實數稅鄉鎮黨單衛機構劃廣東華號與為對時間項當應傳輸範簡補規總結認識變員組織達並幾過還這個們來說",
    "开报资讯务县区关于编制计预决点统办厅发会议导图读审评检训览门国书记据布财实数税乡镇党单卫机构划广东华号与为对时间项当应传输范简补规总结认识变员组织达并几过还这个们来说",
)
_CHINESE_DIGITS = str.maketrans("〇○零一二三四五六七八九", "000123456789")
_CHINESE_YEAR = re.compile(r"[〇○零一二三四五六七八九]{4}(?=年)")
_YEAR = re.compile(r"(?:19|20)\d{2}")
_DISCLOSURE = re.compile(r"信息公开")
_REPORT_NOUN = re.compile(r"年度报告|年报|工作报告")
# Documents about reports (notices, plans, templates, reviews) and other yearly
# documents that share the words but are not the report itself.
_NOT_A_REPORT = re.compile(
    r"通知|通报|的函|编制|报送|做好|印发|征求|格式|模板|样本|工作要点|统计公报|预算|决算|"
    r"解读|图解|一图读懂|考核|评估|评议|整改|检查|审查|培训|会议|发布会|"
    r"关于.*的(?:公告|意见|批复|说明)"
)
_COLUMN_NOUN = re.compile(r"年度报告|年报")
_MAX_COLUMN_TITLE = 40  # agency name + column name: 岚州高新技术产业开发区管理委员会政府信息公开年报


@lru_cache(maxsize=16384)
def normalize_title(text: str) -> str:
    """Fold a link text for matching: NFKC (full-width digits), simplified characters,
    Chinese-numeral years as digits, no whitespace."""
    text = unicodedata.normalize("NFKC", text or "").translate(_TRADITIONAL)
    text = text.replace("资讯公开", "信息公开")  # the Taiwanese term for 信息公开
    text = _CHINESE_YEAR.sub(lambda m: m.group(0).translate(_CHINESE_DIGITS), text)
    return re.sub(r"\s+", "", text)


@lru_cache(maxsize=16384)
def is_report_title(text: str) -> bool:
    """True for the title of a government information disclosure annual report
    (…2019年…政府信息公开工作年度报告, …年报, 2019年度…), false for notices about such
    reports and for budgets, statistical bulletins, work plans."""
    title = normalize_title(text)
    return bool(
        _YEAR.search(title)
        and _DISCLOSURE.search(title)
        and _REPORT_NOUN.search(title)
        and not _NOT_A_REPORT.search(title)
    )


@lru_cache(maxsize=16384)
def is_column_title(text: str) -> bool:
    """True for the name of a column holding the annual reports (政府信息公开年报,
    信息公开年报, 政府信息公开工作年度报告, 年度报告 …): no year, short."""
    title = normalize_title(text)
    if not title or len(title) > _MAX_COLUMN_TITLE or _YEAR.search(title):
        return False
    if not _COLUMN_NOUN.search(title) or _NOT_A_REPORT.search(title):
        return False
    return bool(_DISCLOSURE.search(title)) or title in {"年度报告", "年报", "公开年报", "工作年报", "历年年报"}


def title_year(text: str) -> int | None:
    """The first year a title names (Chinese numerals and full-width digits included), or None."""
    found = _YEAR.search(normalize_title(text))
    return int(found.group(0)) if found else None


def listed_newest_first(links: Iterable[Link]) -> bool:
    """Whether a listing page's report links run from the newest report year down: at least two
    years in their titles, never rising. Only on such a page do reports all archived already say
    that the pages after it list older, archived reports too (see ReportSpider: partial walks)."""
    years = [year for link in links if (year := title_year(link.title)) is not None]
    return len(set(years)) >= 2 and all(a >= b for a, b in zip(years, years[1:]))

# --- URLs ---------------------------------------------------------------------------

# URL shapes that are annual report pages whatever the link text says.
REPORT_URL_PATTERNS = (
    re.compile(r"xxgkAnnualReport\.jsp\?[^#]*\bfbtime=\d{4}", re.I),  # Hanweb
    re.compile(r"/openness/OpennessAnnualReport/show/\d+", re.I),
    re.compile(r"/year_details\.aspx\?[^#]*\bid=\d+", re.I),
)
ATTACHMENT_EXTENSIONS = frozenset(
    {"pdf", "doc", "docx", "wps", "xls", "xlsx", "et", "ofd", "rtf", "zip", "rar", "7z",
     "png", "jpg", "jpeg", "gif", "webp"}  # 图片版 reports: their tables are images
)
_PAGE_FILE = re.compile(r"^(?P<prefix>index|list|default)(?:_(?P<n>\d+))?\.(?P<ext>s?html?|jsp|aspx?)$", re.I)
MAX_GENERATED_PAGES = 500  # a runaway countPage must not flood the scheduler


def is_report_url(url: str) -> bool:
    return any(p.search(url) for p in REPORT_URL_PATTERNS)


def _has_document_extension(name: str) -> bool:
    return posixpath.splitext(name)[1].lower().lstrip(".") in ATTACHMENT_EXTENSIONS


@lru_cache(maxsize=16384)
def is_attachment_url(url: str) -> bool:
    """A document file by its path, or a download script naming one
    (downfile.jsp?filename=1303251.pdf)."""
    parts = urlsplit(url)
    return _has_document_extension(parts.path) or any(
        _has_document_extension(value) for _, value in parse_qsl(parts.query)
    )


def host_allowed(url: str, allowed: AllowList | Iterable[str]) -> bool:
    """Whether the crawl may request the URL: its origin is on the allow-list (an AllowList, or
    allowed_domains entries). The rule is spiders.origins.url_refusal."""
    return as_allow_list(allowed).allows(url)


# Links that are page actions, not documents: never followed, and not worth a refusal record.
_NOT_DOCUMENTS = ("mailto:", "tel:", "sms:")


def resolve_href(href: str | None, base_url: str,
                 allowed: AllowList | Iterable[str] | None) -> tuple[str | None, str | None]:
    """(absolute URL without fragment, None) for a link the crawl may follow; (URL, why not) for one
    it must not (another origin, file:, ftp:, data:, javascript: …); (None, None) for no link at all
    (empty, a #fragment of this page, mailto:/tel:)."""
    href = (href or "").strip()
    if not href or href.startswith("#") or href.lower().startswith(_NOT_DOCUMENTS):
        return None, None
    allow = as_allow_list(allowed, base_url)
    if len(href) + len(base_url) > 4096:  # data: URLs and the like: not worth a cache entry
        return _resolve.__wrapped__(href, base_url, allow)
    return _resolve(href, base_url, allow)


def resolve_link(href: str | None, base_url: str, allowed_domains: AllowList | Iterable[str]) -> str | None:
    """Absolute http(s) URL without fragment, or None for javascript:, mailto:, #…,
    other schemes and origins outside the allow-list."""
    url, refusal = resolve_href(href, base_url, allowed_domains)
    return url if refusal is None else None


@lru_cache(maxsize=16384)
def _resolve(href: str, base_url: str, allow: AllowList) -> tuple[str | None, str | None]:
    """resolve_href's work (pages of one column share most of their links)."""
    try:
        url = urldefrag(urljoin(base_url, href)).url
    except ValueError as exc:  # an invalid IPv6 literal and the like
        return href, f"not a valid URL ({exc})"
    return url, url_refusal(url, allow)


def page_identity(url: str) -> str:
    """The page a URL names, for telling a column's own pages apart: `dir/` and `dir/index.html`
    are the same column page."""
    parts = urlsplit(url)
    path = parts.path
    page_file = _PAGE_FILE.match(posixpath.basename(path))
    if page_file and not page_file.group("n"):
        path = posixpath.dirname(path) + "/"
    return f"{parts.scheme}://{parts.netloc.lower()}{path}?{parts.query}"


# --- HTML pages ---------------------------------------------------------------------

@dataclass(frozen=True)
class Link:
    url: str
    title: str


@dataclass(frozen=True)
class RefusedLink:
    """A link the crawl would follow were it on the allow-list (see spiders.origins)."""
    url: str
    title: str
    kind: str     # what it would be fetched as: "report", "attachment" or "listing"
    reason: str   # why it is not followed


@dataclass
class PageLinks:
    reports: list[Link] = field(default_factory=list)
    attachments: list[Link] = field(default_factory=list)
    pagination: list[str] = field(default_factory=list)
    columns: list[Link] = field(default_factory=list)
    # items the page says its column holds (TRS recordCount, 共N条), when it says so:
    # lets the crawl report a column whose older items it could not reach.
    declared_item_count: int | None = None
    # report, attachment, column and pagination links off the allow-list (not in the lists above)
    refused: list[RefusedLink] = field(default_factory=list)


def _anchor_title(anchor) -> str:
    """The link text, or the title attribute when it is the better title (lists often
    truncate the text and keep the full title in the attribute)."""
    text = " ".join(anchor.text_content().split())
    title_attr = " ".join((anchor.get("title") or "").split())
    if title_attr and (is_report_title(title_attr) and not is_report_title(text) or not text):
        return title_attr
    if title_attr and is_report_title(title_attr) and len(title_attr) > len(text):
        return title_attr
    return text


def _base_url(doc, page_url: str) -> str:
    base = doc.find(".//base[@href]")
    return urljoin(page_url, base.get("href")) if base is not None else page_url


def page_anchors(html: str | bytes, page_url: str,
                 allowed: AllowList | Iterable[str] | None = None) -> Iterator[tuple[str, str | None, str]]:
    """(absolute URL, why it may not be followed or None, title) of each link of a page, in
    document order; links to nothing (#fragments, mailto: …) are left out."""
    allow = as_allow_list(allowed, page_url)
    doc = _parse_html(html)
    base_url = _base_url(doc, page_url)
    for anchor in doc.iter("a"):
        url, refusal = resolve_href(anchor.get("href"), base_url, allow)
        if url is not None:
            yield url, refusal, _anchor_title(anchor)


_CREATE_PAGE_CALL = re.compile(r"createPageHTML\s*\(([^()]*)\)")
_COUNT_PAGE_VAR = re.compile(r"\bcountPage\s*=\s*(\d+)")
_RECORD_COUNT = re.compile(r"\brecordCount\s*[:=]\s*['\"]?(\d+)")
_TOTAL_ITEMS_TEXT = re.compile(r"共\s*(\d+)\s*条")


def _script_page_counts(script: str, page_file: str) -> list[tuple[int, str, str]]:
    """(page count, file prefix, extension) from TRS pagination scripts:
    createPageHTML(countPage, currentPage, "index", "html") — also the variant with a
    leading element id and a trailing record count — and `var countPage = N`."""
    found = []
    for call in _CREATE_PAGE_CALL.finditer(script):
        args = [a.strip() for a in call.group(1).split(",")]
        numbers = [int(a) for a in args if a.isdigit()]
        strings = [a.strip("'\"") for a in args if a[:1] in "'\"" and a[-1:] in "'\""]
        if not numbers:
            continue  # the function definition, or a call with variables
        ext_at = next((i for i, s in enumerate(strings) if s.lower() in ("html", "htm", "shtml", "jsp")), None)
        if ext_at is not None and ext_at > 0:
            found.append((numbers[0], strings[ext_at - 1], strings[ext_at]))
        else:
            found.append((numbers[0], "index", "html"))
    own = _PAGE_FILE.match(page_file)
    prefix, ext = (own.group("prefix"), own.group("ext")) if own else ("index", "html")
    found.extend((int(m.group(1)), prefix, ext) for m in _COUNT_PAGE_VAR.finditer(script))
    return found


def _pagination(doc, page_url: str, base_url: str, link_urls: Iterable[str | None]) -> list[str]:
    """`link_urls`: the page's anchors resolved by resolve_link, in document order."""
    page_dir = posixpath.dirname(urlsplit(page_url).path)
    candidates: list[str] = []
    for url in link_urls:
        if url:
            path = urlsplit(url).path
            if posixpath.dirname(path) == page_dir and _PAGE_FILE.match(posixpath.basename(path)):
                candidates.append(url)
    scripts = "\n".join(s.text_content() for s in doc.iter("script"))
    for count, prefix, ext in _script_page_counts(scripts, posixpath.basename(urlsplit(page_url).path)):
        for n in range(min(count, MAX_GENERATED_PAGES)):
            candidates.append(urljoin(base_url, f"{prefix}.{ext}" if n == 0 else f"{prefix}_{n}.{ext}"))
    own = page_identity(page_url)
    return list(dict.fromkeys(u for u in candidates if page_identity(u) != own))


def _declared_item_count(doc, raw_html: str, markup_is_source: bool = False) -> int | None:
    """`markup_is_source`: raw_html is the very text the document was parsed from, so a 条
    in its text is either in the markup or written as a character reference (&#…;)."""
    counts = [int(m.group(1)) for m in _RECORD_COUNT.finditer(raw_html)]
    if not markup_is_source or "条" in raw_html or "&#" in raw_html:
        counts += [int(m.group(1)) for m in _TOTAL_ITEMS_TEXT.finditer(doc.text_content())]
    return max(counts) if counts else None


_XML_DECLARATION = re.compile(r"\s*<\?xml[^>]*>")
_parsers = threading.local()  # an lxml parser must not be shared between threads


def _parse_html(html: str | bytes):
    if isinstance(html, str):
        # lxml refuses str input that carries an XML encoding declaration
        declaration = _XML_DECLARATION.match(html)
        if declaration:
            html = html[declaration.end():]
        if html and "\x00" not in html:
            # the same characters as UTF-8 bytes: libxml2 reads those faster than a str
            try:
                data = html.encode("utf-8")
            except UnicodeEncodeError:  # lone surrogates: as a str, as before
                pass
            else:
                parser = getattr(_parsers, "utf8", None)
                if parser is None:
                    parser = _parsers.utf8 = lxml.html.HTMLParser(encoding="utf-8")
                try:
                    return lxml.html.document_fromstring(data, parser=parser)
                except Exception:  # whatever the str input does (empty document …), it does below
                    pass
    return lxml.html.document_fromstring(html or "<html></html>")


def _link_kind(url: str, title: str) -> str | None:
    """What a link would be fetched as: "attachment", "report", "column", or None (not followed)."""
    if is_attachment_url(url):
        return "attachment"
    if is_report_url(url) or is_report_title(title):
        return "report"
    if is_column_title(title):
        return "column"
    return None


def classify_links(html: str | bytes, page_url: str, allowed: AllowList | Iterable[str] | None = None, *,
                   count_items: bool = True) -> PageLinks:
    """Sort the links of a page into report pages, attachments, pagination pages and
    report columns; relative URLs are resolved. `allowed`: the source's AllowList, or
    allowed_domains entries (default: the page's own origin, and its host on the default
    ports). Links off it that would be followed otherwise are in `refused`, with the reason;
    other links off it, mailto: and #fragment links are dropped.
    `count_items=False` leaves declared_item_count None (the crawl reads it on listing
    pages only, and it costs a pass over the whole text)."""
    allow = as_allow_list(allowed, page_url)
    doc = _parse_html(html)
    base_url = _base_url(doc, page_url)
    reports: dict[str, Link] = {}
    attachments: dict[str, Link] = {}
    columns: dict[str, Link] = {}
    refused: dict[str, RefusedLink] = {}
    link_urls: list[str | None] = []
    for anchor in doc.iter("a"):
        url, refusal = resolve_href(anchor.get("href"), base_url, allow)
        link_urls.append(url if refusal is None else None)
        if url is None:
            continue
        title = _anchor_title(anchor)
        kind = _link_kind(url, title)
        if kind is None:
            continue
        if refusal is not None:
            refused.setdefault(url, RefusedLink(url, title, "listing" if kind == "column" else kind, refusal))
        elif kind == "attachment":
            attachments.setdefault(url, Link(url, title or posixpath.basename(urlsplit(url).path)))
        elif kind == "report":
            reports.setdefault(url, Link(url, title))
        else:
            columns.setdefault(url, Link(url, title))
    pagination = []
    for url in _pagination(doc, page_url, base_url, link_urls):
        refusal = url_refusal(url, allow)  # pages a script generates from a <base href> elsewhere
        if refusal is None:
            pagination.append(url)
        else:
            refused.setdefault(url, RefusedLink(url, "", "listing", refusal))
    # the column's own pages are pagination, not further columns ("./" on its own list)
    this_column = {page_identity(u) for u in [page_url, *pagination]}
    return PageLinks(
        reports=list(reports.values()),
        attachments=list(attachments.values()),
        pagination=pagination,
        columns=[c for c in columns.values() if page_identity(c.url) not in this_column],
        declared_item_count=(_declared_item_count(doc, html, markup_is_source=True) if isinstance(html, str)
                             else _declared_item_count(doc, html.decode("utf-8", "replace"))) if count_items else None,
        refused=list(refused.values()),
    )


# --- images of a report page (图片版: the tables are <img>s) --------------------------

MAX_PAGE_IMAGES = 30          # a report of images has 1-10; more is a gallery, not a report
MIN_IMAGE_SIDE = 200          # a width or height attribute under this (px): an icon, a button
_IMAGE_SOURCE_ATTRIBUTES = ("src", "data-src", "data-original")
# Page furniture by its file or folder name (the report's own images are uploads: W0…png, 2023…jpg)
_DECORATION_NAME = re.compile(
    r"logo|icon|(?:^|[^a-z])ico(?:n|\d|[^a-z]|$)|btn|button|share|qr_?code|qrcode|ewm|erweima|(?:^|[^a-z])code"
    r"|banner|arrow|spacer|blank|pixel|loading|bullet|dot\.", re.I)
_DECORATION_FOLDERS = frozenset({"skin", "skins", "style", "styles", "css", "theme", "themes", "template",
                                 "templates", "common", "icons", "icon", "logo", "btn"})
# Parts of a page around the report body: their images are the site's, not the report's
_FRAME_TAGS = frozenset({"header", "nav", "footer", "aside"})
_FRAME_NAMES = re.compile(r"(?:^|[\s_-])(?:header|head|nav|navbar|menu|footer|foot|banner|share|sidebar|breadcrumb|"
                          r"crumb|topbar|top|bottom|copyright|qrcode|ewm)(?:$|[\s_-])", re.I)
_PIXELS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:px)?\s*$", re.I)
_STYLE_SIDE = re.compile(r"(?:^|;)\s*(width|height)\s*:\s*(\d+(?:\.\d+)?)\s*px", re.I)


def _small_side(img) -> bool:
    """Whether a width or height the <img> states (attribute or inline style, in pixels) is icon-sized."""
    sides = []
    for name in ("width", "height"):
        found = _PIXELS.match(img.get(name) or "")
        if found:
            sides.append(float(found.group(1)))
    sides += [float(m.group(2)) for m in _STYLE_SIDE.finditer(img.get("style") or "")]
    return any(side < MIN_IMAGE_SIDE for side in sides)


def _in_page_frame(img) -> bool:
    """Whether the <img> sits in the page's header, navigation, footer, share bar … (by tag, id or class)."""
    for node in img.iterancestors():
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag.lower() in _FRAME_TAGS:
            return True
        names = f"{node.get('id') or ''} {node.get('class') or ''}"
        if names.strip() and _FRAME_NAMES.search(names):
            return True
    return False


def _decoration_url(url: str) -> bool:
    path = urlsplit(url).path
    folders = {part.lower() for part in posixpath.dirname(path).split("/") if part}
    return bool(folders & _DECORATION_FOLDERS) or bool(_DECORATION_NAME.search(posixpath.basename(path)))


def page_images(html: str | bytes, page_url: str, allowed: AllowList | Iterable[str] | None = None,
                limit: int = MAX_PAGE_IMAGES) -> tuple[list[Link], list[RefusedLink]]:
    """The images of a report page that may be its content (a 图片版 report's tables), in
    document order: the `src`, `data-src` or `data-original` of each <img>, resolved to an
    absolute URL. Left out: data: URIs, images in the page's header/navigation/footer/share
    bar, icon-sized ones (a stated width or height under MIN_IMAGE_SIDE px), site furniture by
    name (logo, icon, btn, share, qrcode, ewm …), and any past `limit`. ([followable], [refused
    by the allow-list, with the reason]); titles are the alt text, else the file name."""
    allow = as_allow_list(allowed, page_url)
    doc = _parse_html(html)
    base_url = _base_url(doc, page_url)
    found: dict[str, Link] = {}
    refused: dict[str, RefusedLink] = {}
    for img in doc.iter("img"):
        if len(found) >= limit:
            break
        sources = [(img.get(name) or "").strip() for name in _IMAGE_SOURCE_ATTRIBUTES]
        # a lazy-loading page puts a placeholder in src and the image in data-src/data-original
        sources = [s for s in sources if s and not s.lower().startswith("data:")]
        if not sources or _small_side(img) or _in_page_frame(img):
            continue
        lazy = [s for s in sources[1:] if s]
        href = lazy[0] if lazy and _decoration_url(urljoin(base_url, sources[0])) else sources[0]
        url, refusal = resolve_href(href, base_url, allow)
        if url is None or _decoration_url(url) or url in found or url in refused:
            continue
        title = " ".join((img.get("alt") or img.get("title") or "").split()) \
            or posixpath.basename(urlsplit(url).path) or url
        if refusal is None:
            found[url] = Link(url, title)
        else:
            refused[url] = RefusedLink(url, title, "attachment", refusal)
    return list(found.values()), list(refused.values())
