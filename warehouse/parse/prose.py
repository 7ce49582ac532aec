"""Era P: figures stated in sentences, and the attached statistics table.

A figure counts only in the section about its topic (the 政府采购信息 of a
"key work" section is not a proactive-disclosure count). "None" stated in words
(未收到…申请, 没有发生行政复议) is a stated zero; a figure the report never
states gets no fact. Where the statistics table exists its facts come first, so
they win over the prose when the dispatcher dedupes by key.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from warehouse.eras import era_named
from warehouse.facts import Fact
from warehouse.parse.numbers import CN_NUMERAL_CHARS, parse_chinese_number
from warehouse.parse.stats_table import grid_table_facts, text_table_facts
from warehouse.parse.textnorm import NormText, normalise_text

# ---------------------------------------------------------------- sections

_CN_ORDINALS = "一二三四五六七八九十"
# '二、主动公开政府信息情况' — not '（二）' sub-headings, not '一是'.
_HEADING = re.compile(r"(?<![（(\d一二三四五六七八九十])([一二三四五六七八九十]{1,3})\s*[、.．]\s*")
_HEADING_TEXT_END = re.compile(r"[\s（(。，,；:：.]")

# Topic of a section from its heading, first match wins (order matters:
# '因政府信息公开申请行政复议' is about reviews, not requests).
_TOPICS = tuple((topic, re.compile(pattern)) for topic, pattern in (
    ("reviews", r"复议|诉讼"),
    ("fees", r"收费|费用|减免"),
    ("requests", r"依申请|申请公开"),
    ("consultation", r"咨询"),
    ("requests", r"申请"),
    ("proactive", r"主动"),
    ("table", r"统计表"),
    ("problems", r"问题|改进|措施|安排|计划|打算|其他|说明"),
))


@dataclass(frozen=True)
class Section:
    topic: str
    start: int
    end: int


def _ordinal(numeral: str) -> int | None:
    return parse_chinese_number(numeral)


def _topic(heading: str) -> str:
    for topic, pattern in _TOPICS:
        if pattern.search(heading):
            return topic
    return "general"


# '(一)主动公开情况' or, where a part has no such headings, '1、主动公开情况' at a line start.
_SUBHEADING = re.compile(r"(?:^|(?<=[\n。:;]))[ \t]*\(([一二三四五六七八九十]{1,2})\)[ \t]*")
_NUMBERED_SUBHEADING = re.compile(r"(?m)^[ \t]*(\d{1,2})[ \t]*[、.](?!\d)[ \t]*")


def split_sections(text: str) -> list[Section]:
    """Sections under the top-level headings 一、二、三…, numbered in sequence. A part
    about no topic of its own (一、总体情况 of the table eras) is split further at its
    sub-headings ((一)主动公开情况 (二)依申请公开情况 …), so each figure is read in the
    sub-section about it."""
    sections: list[Section] = []
    for section in _top_sections(text):
        if section.topic in ("general", "preamble"):
            sections += _sub_sections(text, section)
        else:
            sections.append(section)
    return sections


def _sub_sections(text: str, parent: Section) -> list[Section]:
    for pattern, ordinal in ((_SUBHEADING, _ordinal), (_NUMBERED_SUBHEADING, int)):
        starts: list[tuple[int, str]] = []
        expected = 1
        for m in pattern.finditer(text, parent.start, parent.end):
            if ordinal(m.group(1)) != expected:
                continue
            heading = _HEADING_TEXT_END.split(text[m.end(): m.end() + 24], maxsplit=1)[0]
            starts.append((m.start(), _topic(heading)))
            expected += 1
        if len(starts) >= 2:
            bounds = [s for s, _ in starts[1:]] + [parent.end]
            head = [Section(parent.topic, parent.start, starts[0][0])]
            return head + [Section(topic, start, end) for (start, topic), end in zip(starts, bounds)]
    return [parent]


def _top_sections(text: str) -> list[Section]:
    starts: list[tuple[int, str]] = [(0, "preamble")]
    expected = 1
    for m in _HEADING.finditer(text):
        number = _ordinal(m.group(1))
        if number not in (expected, 1) or (number == 1 and expected > 1 and len(starts) < 3):
            continue
        heading = _HEADING_TEXT_END.split(text[m.end(): m.end() + 24], maxsplit=1)[0]
        starts.append((m.start(), _topic(heading)))
        expected = number + 1
    bounds = [s for s, _ in starts[1:]] + [len(text)]
    return [Section(topic, start, end) for (start, topic), end in zip(starts, bounds)]


_GENERAL = ("general", "preamble")


def _scope(sections: list[Section], topic: str, fallback: tuple[str, ...] = _GENERAL) -> list[Section]:
    """Sections about `topic`; when the report has none, its untitled/general ones."""
    own = [s for s in sections if s.topic == topic]
    return own or [s for s in sections if s.topic in fallback]


def _scopes(sections: list[Section], topic: str) -> list[list[Section]]:
    """Where to read a topic's figure, in order: its own sections, then the untitled ones
    (the table eras state the year's figures in 一、总体情况, not in the part about tables)."""
    own = [s for s in sections if s.topic == topic]
    general = [s for s in sections if s.topic in _GENERAL]
    return [scope for scope in (own, general) if scope]


# ---------------------------------------------------------------- numbers in sentences

_NUM = r"(?P<num>\d+(?:,\d{3})*|[" + CN_NUMERAL_CHARS + r"]+)"
_APPROX_BEFORE = r"(?P<pre>近|约|共约)?"
_APPROX_AFTER = r"\s*(?P<post>多|余)?\s*"
_FILLER = r"\s*(?:\([^()]{1,12}\))?\s*(?:共|为|达|有|的有|共计|合计|总计)?\s*"


def _figure(label: str, units: str) -> re.Pattern:
    """label … number … unit, with approximate markers around the number."""
    return re.compile(r"(?P<label>" + label + r")" + _FILLER + _APPROX_BEFORE + _NUM + _APPROX_AFTER
                      + r"(?P<unit>" + units + r")")


_COUNT_UNITS = r"条|件|项|个|份"
_CASE_UNITS = r"件|起|宗|例|案件|案|个|份"

# '主动公开政府信息252条', '共主动公开、更新各类信息222条', '主动公开政务信息数545条' (not 依申请公开).
_PROACTIVE = _figure(r"(?:主动)?(?<!申请)(?:公开|发布)(?:[、和及与](?:更新|发布|公开))?(?:了)?(?:的)?(?:各类|各种|各项)?"
                     r"(?:政府|政务)?信息(?:件数|条数|数量|总数|数)?", _COUNT_UNITS)
# Other wording of the year's items, read only where a proactive section states no such
# figure: '发布公文共计19件', '公开各类信息及工作动态类信息合计193条', '…等事项政府信息累计76条'.
_PROACTIVE_OTHER = re.compile(r"(?P<label>(?:信息|公文|文件))\s*(?:共计|共|合计|总计|累计|数)?\s*" + _APPROX_BEFORE + _NUM
                              + _APPROX_AFTER + r"(?P<unit>条|件|篇)")
_PUBLISHING_VERB = re.compile(r"(?<!申请)(?:公开|发布|推送)")
# A figure to date, not the year's: '历年累计', '截至目前', '目前本单位已主动公开…'.
_TO_DATE = re.compile(r"历年|截至|截止|(?<!1月)至今|迄今|目前|(?:建站|实施|成立|开通|运行|上线)以来")
# '其中政府规章2件、规范性文件18件': sub-types listed after the whole. '政策、规范性文件类信息'
# is a category of items (policy and normative documents together), not this count.
_NOT_POLICY = r"(?<!政策)(?<!政策、)(?<!政策和)(?<!政策及)"
_NORMATIVE = _figure(_NOT_POLICY + r"(?:行政)?规范性文件(?:数|数量)?", r"件|份|个|条(?!.{0,2}类)")
_RULES = _figure(_NOT_POLICY + r"(?<!制度)规章(?:数|数量)?", r"件|部|个")
# Documents counted by other work than disclosure: clean-ups, repeals, filings, drafts.
# The verb governs the documents it names ('清理规章1件、规范性文件46件'), not the
# other items of a list ('政策解读12条、规范性文件3件').
_NOT_DISCLOSURE_WORK = re.compile(r"(?:清理|废止|失效|修改|修订|备案|审查|审核|起草|征求意见|解读|宣传)"
                                  r"[^，,；;：:、\d]{0,8}?(?:规章|规范性文件)")
# '已全部办结，办结63件', '共办结依申请公开事项18件', '已办结17件，正在办理1件'.
_HANDLED = _figure(r"(?:申请)?(?:办结|办理完毕|处理完毕)(?:[^，。；,;\d]{0,14}?(?:申请|事项|请求))?"
                   r"(?:件数|总数|数量|数|的)?", r"件|条|项|份|宗|起")
# '共收到申请12件', '新收政府信息公开申请数量0件', '收到依申请公开政府信息19件', '受理申请26件(次)'.
_REQUEST_UNITS = _COUNT_UNITS + r"|宗|起|人次"
_RECEIVED = _figure(r"(?P<verb>收到|受理|接到|接收|新收)(?P<mid>[^，。；,;]{0,20}?)申请(?:公开(?:的)?(?:政府|政务)?信息|(?:政府)?信息公开(?:事项)?)?"
                    r"(?:件数|总数|数量|数)?", _REQUEST_UNITS)
# '上年结转政府信息公开申请数量0件', '结转下年度继续办理3件'.
_CARRIED = {
    "carried_over": _figure(r"上(?:一)?年(?:度)?结转(?:的)?(?:[^，。；,;\d]{0,16}?申请)?(?:件数|总数|数量|数)?", _REQUEST_UNITS),
    "carried_forward": _figure(r"结转(?:至|到)?下(?:一)?年(?:度)?(?:继续)?(?:办理)?(?:的)?(?:申请)?(?:件数|数量|数)?", _REQUEST_UNITS),
}
_OUTCOMES = (
    ("granted", _figure(r"(?<![不分])(?:同意公开|予以公开|全部公开)(?:答复)?(?:数|的)?", _COUNT_UNITS)),
    ("partially_granted", _figure(r"(?:同意)?部分公开(?:答复)?(?:数|的)?", _COUNT_UNITS)),
    ("withheld", _figure(r"(?:不予公开|不同意公开|否决公开)(?:答复)?(?:数|的)?", _COUNT_UNITS)),
    ("unavailable_not_held_other_body", _figure(r"不属于本(?:行政)?机关[^，。；]{0,12}?", _COUNT_UNITS)),
    ("unavailable_nonexistent", _figure(r"(?:申请)?(?:公开的)?信息不存在(?:的)?(?:数)?", _COUNT_UNITS)),
)
_REVIEW_COUNT = {
    "reconsideration": _figure(r"(?:行政)?复议(?:案件|申请|案)?(?:数|数量)?", _CASE_UNITS),
    "litigation": _figure(r"行政诉讼(?:案件|案)?(?:数|数量)?", _CASE_UNITS),
}
# '收到1份有关政府信息公开行政复议申请'
_REVIEW_COUNT_BEFORE = {
    "reconsideration": re.compile(r"(?:收到|受理|发生|产生)" + _NUM + r"\s*(?P<unit>件|起|份|宗|例)(?P<label>[^，。；]{0,15}?行政复议)"),
    "litigation": re.compile(r"(?:收到|受理|发生|产生)" + _NUM + r"\s*(?P<unit>件|起|份|宗|例)(?P<label>[^，。；]{0,15}?行政诉讼)"),
}

# "None" in words.
_NEGATION = r"(?:未|没有|没|无|尚无|尚未)"
_NEGATION_AT_END = re.compile(_NEGATION + r"$")
# Table 三's row labels hold negations of their own ('4.无正当理由大量反复申请', '无法提供').
_NO_REQUESTS = (
    re.compile(_NEGATION + r"(?!正当理由|法提供)(?:有)?(?:收到|接到|受理|接收|发生|办理)?(?P<mid>[^，。；,;]{0,25}?)(?:依)?申请(?P<after>[^，。；,;]{0,12})"),
    re.compile(r"申请[^，。；,;]{0,8}?(?:事项|数量|件数|数)?为(?:零|0)(?!\d)"),
)
# Not '未经复议直接起诉' (a kind of lawsuit) nor '未被复议机关纠错' (an outcome).
_REVIEW_NEGATION = _NEGATION + r"(?![经被])"
_NO_REVIEWS = {
    "reconsideration": re.compile(_REVIEW_NEGATION + r"[^，。；,;]{0,40}?复议"),
    # '未发生…行政复议案、行政诉讼案' denies both; a bare '诉讼' counts only after 复议.
    "litigation": re.compile(_REVIEW_NEGATION + r"[^，。；,;]{0,40}?(?:行政诉讼|复议[^，。；,;]{0,12}?诉讼)"),
}
# '未发生…被行政复议纠错或行政诉讼败诉情形' denies an outcome, not the cases.
_REVIEW_OUTCOME = re.compile(r"纠错|纠正|败诉|撤销|确认违法|维持")
_CLAUSE = re.compile(r"[^，。；,;\n]+")
_SENTENCE = re.compile(r"[^。；;\n]+")
# A row of a table flattened into the text: pipes, or three numbers in a row.
_TABLE_ROW = re.compile(r"\||\d+\s+\d+\s+\d+")


@dataclass
class _Context:
    norm: NormText
    original: str
    has_tables: bool   # the report's era is a table layout (warehouse.eras): tables state most figures
    # Figures of a key stated again in another section than the one that gave its fact.
    elsewhere: list[Fact] = field(default_factory=list)

    def fact(self, table: str, dims: dict, m: re.Match, offset: int = 0, value=None) -> Fact | None:
        value = value if value is not None else parse_chinese_number(m.group("num").replace(",", ""))
        if value is None:
            return None
        label_start, label_end = m.span("label")
        o_start = self.norm.offsets[offset + label_start]
        o_end = self.norm.offsets[offset + label_end - 1] + 1
        groups = m.groupdict()
        approximate = bool(groups.get("pre") or groups.get("post"))
        span = (min(m.start(), label_start), m.end())
        return Fact(table, dims, value, label_zh=self.original[o_start:o_end].strip(),
                    source=self.norm.source(offset + span[0], offset + span[1]),
                    unit=groups.get("unit"), approximate=approximate)

    def zero(self, table: str, dims: dict, start: int, end: int) -> Fact:
        o_start, o_end = self.norm.offsets[start], self.norm.offsets[end - 1] + 1
        return Fact(table, dims, 0, label_zh=self.original[o_start:o_end].strip(),
                    source=self.norm.source(start, end))


def _sentences(ctx: _Context, sections: list[Section]):
    """(offset, sentence) pairs of the given sections, in order; rows of tables flattened
    into the text are not sentences (the tables are read on their own)."""
    for section in sections:
        for m in _SENTENCE.finditer(ctx.norm.text, section.start, section.end):
            if not _TABLE_ROW.search(m.group()):
                yield m.start(), m.group()


# ---------------------------------------------------------------- proactive

def _is_part(sentence: str, m: re.Match, first: bool) -> bool:
    """A share of the whole: '…1687条，占66%' or a later figure after 其中."""
    after = sentence[m.end(): m.end() + 6]
    return bool(re.match(r"[，,]?\s*占", after)) or (not first and "其中" in sentence[: m.start()])


def _year_figure(sentence: str, wholes: list[re.Match]) -> tuple[re.Match | None, re.Match | None]:
    """The sentence's figure of the year's items, and its figure of items to date.

    '累计' alone is how many reports say the year's total ('全年累计主动公开…'); it is a
    figure to date only beside another figure ('…222条，累计主动公开信息2382条') or with
    words of a date ('截至目前', '历年'). Several figures with no total (one per channel)
    give none, unless one alone is the 主动公开 figure."""
    def before(m: re.Match) -> str:  # from the figure stated before it (if any) to its label's first words
        return re.split(r"\d\s*(?:条|件|项|个|份|篇)", sentence[: m.start("label") + 2])[-1]

    to_date = [m for m in wholes if _TO_DATE.search(before(m))]
    cumulative = [m for m in wholes if "累计" in before(m) and m not in to_date]
    annual = [m for m in wholes if m not in to_date and m not in cumulative]
    if annual and cumulative:
        to_date, cumulative = to_date + cumulative, []
    candidates = annual or cumulative
    if len(candidates) > 1:
        candidates = [m for m in candidates if "主动" in m.group("label")]
    return (candidates[0] if len(candidates) == 1 else None), (to_date[0] if len(to_date) == 1 else None)


def _proactive_facts(ctx: _Context, sections: list[Section]) -> list[Fact]:
    facts: list[Fact] = []
    for scope in _scopes(sections, "proactive"):
        found = _proactive_in(ctx, scope)
        if any(f.dims["measure"] == "count" for f in facts):
            # stated again in the untitled part; channel figures ('微博…发布信息1992条') are not
            ctx.elsewhere += [f for f in found if f.dims["measure"] == "count" and "主动" in f.label_zh]
            break
        facts = found
    # Sub-type counts are era P's measure; table 二 states rules and normative documents
    # by issued / in force, and a narrative figure of a table era may cover other bodies.
    for item_type, pattern in (("normative_documents", _NORMATIVE), ("rules", _RULES)) if not ctx.has_tables else ():
        fact = _subtype_fact(ctx, sections, item_type, pattern)
        if fact:
            facts.append(fact)
    return facts


# Channels and formats, stated in words: '在政府网站公开政府信息75条', '微信公众号发布信息66条',
# '召开新闻发布会3场', '发布政策解读12篇'. The first of each in the proactive sections counts.
_CHANNEL_FIGURES = {item_type: re.compile(pattern + _FILLER + _APPROX_BEFORE + _NUM + _APPROX_AFTER + units)
                    for item_type, pattern, units in (
    ("website_posts", r"(?P<label>(?:政府|门户|官方|部门)网站[^，。；,;\d]{0,12}?(?:发布|公开|更新)(?:各类|政府|政务)?(?:信息)?)",
     r"(?P<unit>条|篇)"),
    ("new_media_posts", r"(?P<label>(?:微博|微信|公众号|新媒体|政务号|客户端|抖音|头条号)[^，。；,;\d]{0,12}?(?:发布|公开|推送)"
     r"(?:各类|政府|政务)?(?:信息)?)", r"(?P<unit>条|篇)"),
    ("press_conferences", r"(?P<label>(?:召开|举办|举行|组织)[^，。；,;\d]{0,8}?新闻发布会)", r"(?P<unit>场|次|期)"),
    ("policy_interpretations", r"(?P<label>(?:发布|制作|推出|开展)[^，。；,;\d]{0,6}?政策解读(?:稿件|材料|信息|文章)?)",
     r"(?P<unit>篇|条|件|期)"),
)}


def _channel_facts(ctx: _Context, sections: list[Section]) -> list[Fact]:
    sentences = (pair for scope in _scopes(sections, "proactive") for pair in _sentences(ctx, scope))
    return _first_of_each(ctx, sentences, _CHANNEL_FIGURES, lambda item_type: ("proactive", {
        "item_type": item_type, "measure": "count"}), not_after=_TO_DATE)


def _first_of_each(ctx: _Context, sentences, patterns: dict[str, re.Pattern], fact_of, not_after: re.Pattern) -> list[Fact]:
    """The first figure each pattern finds in the sentences, unless `not_after` matches before it
    in its sentence; fact_of(key) gives the fact's table and dimensions."""
    facts: dict[str, Fact] = {}
    for offset, sentence in sentences:
        for key, pattern in patterns.items():
            m = pattern.search(sentence) if key not in facts else None
            if m and not not_after.search(sentence, 0, m.start()):
                fact = ctx.fact(*fact_of(key), m, offset)
                if fact:
                    facts[key] = fact
    return list(facts.values())


def _proactive_in(ctx: _Context, scope: list[Section]) -> list[Fact]:
    """The year's items (and a figure to date) stated in these sections."""
    facts: list[Fact] = []
    for offset, sentence in _sentences(ctx, scope):
        wholes = [m for i, m in enumerate(_PROACTIVE.finditer(sentence)) if not _is_part(sentence, m, i == 0)]
        for measure, m in zip(("count", "published_total"), _year_figure(sentence, wholes) if wholes else ()):
            fact = ctx.fact("proactive", {"item_type": "all_items", "measure": measure}, m, offset) if m else None
            if fact and not any(f.key == fact.key for f in facts):
                facts.append(fact)
    if not any(f.dims["measure"] == "count" for f in facts):
        fact = _other_wording_fact(ctx, scope)
        facts += [fact] if fact else []
    return facts


def _other_wording_fact(ctx: _Context, scope: list[Section]) -> Fact | None:
    """'发布公文共计19件': the first items figure after a publishing verb in the sentence."""
    for offset, sentence in _sentences(ctx, scope):
        for m in _PROACTIVE_OTHER.finditer(sentence):
            head = sentence[: m.start()]
            if (_PUBLISHING_VERB.search(head) and not _TO_DATE.search(head)
                    and not _is_part(sentence, m, first=False) and "其中" not in head[-12:]):
                return ctx.fact("proactive", {"item_type": "all_items", "measure": "count"}, m, offset)
    return None


def _clause_before(sentence: str, position: int) -> str:
    """The text of the clause up to `position` (from the last comma or semicolon)."""
    return re.split(r"[，,；;：:]", sentence[:position])[-1]


def _subtype_fact(ctx: _Context, sections: list[Section], item_type: str, pattern: re.Pattern) -> Fact | None:
    """The first count of a sub-type that is about disclosure (not 清理/废止… of documents)."""
    for offset, sentence in _sentences(ctx, _scope(sections, "proactive")):
        for m in pattern.finditer(sentence):
            if "累计" in sentence[: m.start()] or _NOT_DISCLOSURE_WORK.search(_clause_before(sentence, m.end("label"))):
                continue
            fact = ctx.fact("proactive", {"item_type": item_type, "measure": "count"}, m, offset)
            if fact:
                return fact
    return None


# ---------------------------------------------------------------- requests

def _received_fact(ctx: _Context, sections: list[Section]) -> Fact | None:
    # Untitled parts speak of other applications too ('政务服务中心共受理申请121510件'):
    # they are read only where the report has no part about requests.
    return next((fact for scope in _scopes(sections, "requests") if (fact := _received_in(ctx, scope))), None)


def _received_in(ctx: _Context, scope: list[Section]) -> Fact | None:
    for offset, sentence in _sentences(ctx, scope):
        for clause in _CLAUSE.finditer(sentence):
            text, start = clause.group(), offset + clause.start()
            if re.search(r"复议|诉讼|咨询|投诉|收费|结转", text):
                continue
            m = _RECEIVED.search(text)
            if m:
                return ctx.fact("requests", {"row": "received_new", "applicant": "total"}, m, start)
            for pattern in _NO_REQUESTS:
                z = pattern.search(text)
                if z and not re.search(r"咨询|复议|诉讼", z.group()):
                    return ctx.zero("requests", {"row": "received_new", "applicant": "total"},
                                    start + z.start(), start + z.end())
    return None


def _carried_facts(ctx: _Context, sections: list[Section]) -> list[Fact]:
    """Requests carried over from last year and forward to next year, stated in words."""
    return _first_of_each(ctx, _sentences(ctx, _scope(sections, "requests")), _CARRIED,
                          lambda row: ("requests", {"row": row, "applicant": "total"}), not_after=_NEGATION_AT_END)


def _outcome_facts(ctx: _Context, sections: list[Section]) -> list[Fact]:
    facts: list[Fact] = []
    for row, pattern in _OUTCOMES:
        if ctx.has_tables and row != "granted":
            continue  # the table eras split these by reason; the tables give them
        for offset, sentence in _sentences(ctx, _scope(sections, "requests")):
            m = pattern.search(sentence)
            if m:
                fact = ctx.fact("requests", {"row": row, "applicant": "total"}, m, offset)
                if fact:
                    facts.append(fact)
                    break
    return facts


def _handled_fact(ctx: _Context, sections: list[Section]) -> Fact | None:
    """Requests handled: '已全部办结，办结63件', '共办结申请18件' (not complaints or petitions)."""
    for offset, sentence in _sentences(ctx, _scope(sections, "requests")):
        for clause in _CLAUSE.finditer(sentence):
            text, start = clause.group(), offset + clause.start()
            if re.search(r"复议|诉讼|咨询|投诉|举报|信访|留言|建议|提案|热线|来信|来电", text):
                continue
            m = _HANDLED.search(text)
            if m and not _NEGATION_AT_END.search(text, 0, m.start()):
                return ctx.fact("requests", {"row": "handled_total", "applicant": "total"}, m, start)
    return None


def _request_facts(ctx: _Context, sections: list[Section]) -> list[Fact]:
    received = _received_fact(ctx, sections)
    facts = ([received] if received else []) + _carried_facts(ctx, sections)
    # Outcomes of requests exist only when requests were received ('不予公开信息10条' of a
    # report with no requests is about information withheld, not about replies).
    if not received or received.value:
        if not ctx.has_tables:  # the table eras give the total handled in table 三
            handled = _handled_fact(ctx, sections)
            facts += [handled] if handled else []
        facts += _outcome_facts(ctx, sections)
    return facts


# ---------------------------------------------------------------- reviews

# The table eras split lawsuits in two; a sentence denying lawsuits states both zero.
_LITIGATION_SPLIT = ("litigation_direct", "litigation_after_reconsideration")


def _review_facts(ctx: _Context, sections: list[Section]) -> list[Fact]:
    table_era = ctx.has_tables
    wanted = {"reconsideration": [("reconsideration",)],
              "litigation": [_LITIGATION_SPLIT if table_era else ("litigation",)]}
    proceedings = tuple(wanted)
    scope = [s for s in sections if s.topic in ("reviews", "requests", "general", "preamble")]
    scope.sort(key=lambda s: s.topic != "reviews")  # the section about reviews speaks first
    found: dict[str, Fact] = {}
    for offset, sentence in _sentences(ctx, scope):
        for clause in _CLAUSE.finditer(sentence):
            text, start = clause.group(), offset + clause.start()
            for proceeding in proceedings:
                if proceeding not in found:
                    fact = _review_in_clause(ctx, proceeding, text, start)
                    if fact:
                        found[proceeding] = fact
        if len(found) == len(proceedings):
            break
    facts = []
    for proceeding, fact in found.items():
        (keys,) = wanted[proceeding]
        if keys == ("litigation",) or proceeding == "reconsideration":
            facts.append(fact)
        elif fact.value == 0:  # a table era's lawsuits in words: only 'none' says both kinds
            facts += [Fact("reviews", {"proceeding": k, "result": "total"}, 0, label_zh=fact.label_zh,
                           source=fact.source) for k in keys]
    return facts


def _review_in_clause(ctx: _Context, proceeding: str, text: str, start: int) -> Fact | None:
    dims = {"proceeding": proceeding, "result": "total"}
    for pattern in (_REVIEW_COUNT[proceeding], _REVIEW_COUNT_BEFORE[proceeding]):
        m = pattern.search(text)
        if m and not _NEGATION_AT_END.search(text, 0, m.start()):
            return ctx.fact("reviews", dims, m, start)
    z = _NO_REVIEWS[proceeding].search(text)
    if z and not _REVIEW_OUTCOME.search(text, z.start()):
        return ctx.zero("reviews", dims, start + z.start(), start + z.end())
    return None


# ---------------------------------------------------------------- entry point

def _table_facts(ctx: _Context, tables, hints: dict[tuple, float]) -> list[Fact]:
    facts = grid_table_facts(tables) + text_table_facts(ctx.norm, ctx.original, hints)
    return [f for f in facts if not ctx.has_tables or f.key[1] not in ("litigation", "withheld")]


class ProseStatements(NamedTuple):
    """A report's figures by where they are stated: its statistics table (era P), the
    sentences of the section about each topic, and figures stated again elsewhere."""
    tables: list[Fact]
    sentences: list[Fact]
    elsewhere: list[Fact]


def read_prose(text: str, era: str, tables=None, norm: NormText | None = None) -> ProseStatements:
    """`norm`: normalise_text(text) when the caller has it already (Document.normalised).
    Era P's statistics table (grids in `tables`, or flattened in the text) is read too,
    with every sentence figure as a hint for digits that ran together."""
    ctx = _Context(norm or normalise_text(text or ""), text or "", bool(era) and era_named(era).has_tables)
    sections = split_sections(ctx.norm.text)
    sentences = (_proactive_facts(ctx, sections) + _channel_facts(ctx, sections) + _request_facts(ctx, sections)
                 + _review_facts(ctx, sections))
    hints = {f.key: f.value for f in sentences}
    table = _table_facts(ctx, tables, hints) if not ctx.has_tables else []
    return ProseStatements(table, sentences, ctx.elsewhere)


def parse_prose_facts(text: str, era: str, tables=None, norm: NormText | None = None) -> list[Fact]:
    """Every figure read_prose finds, the statistics table's first (they win when deduped)."""
    statements = read_prose(text, era, tables, norm)
    return statements.tables + statements.sentences
