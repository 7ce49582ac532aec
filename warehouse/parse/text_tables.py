"""Table eras: tables 二, 三, 四 flattened into text -> facts.

Inputs are PDF text (one row per line, labels broken over lines), markdown
pipes from converters, one cell per line, and crawler dumps where adjacent
cells run together with no separator ('640020470' = 64|0|0|2|0|4|70).

The text is cut into tokens: label text and numbers. Each run of numbers
belongs to the label text just before it. Where digits of several cells ran
together, the run is decoded with the table's own identities (a row's
applicant columns add up to its 总计; each proceeding's results add up to its
总计); only values every admissible decoding agrees on are kept.
Facts carry `source = text!START-END`, the character span of the numbers.
"""
from __future__ import annotations

import bisect
import functools
import itertools
import re
from dataclasses import dataclass

from warehouse.facts import Fact
from warehouse.parse.numbers import CellNumber, normalise_label, parse_cell_number
from warehouse.parse.tables import (
    APPLICANT_ORDER, ITEM_TYPE_RULES, MEASURE_RULES, PROCEEDING_ORDER, RESULT_ORDER,
    classify_item_type, classify_request_row, label_core, proactive_fact,
    request_fact, review_fact, review_label,
)

MAX_LABEL_PARTS = 6      # label fragments looked at before a run of numbers
MAX_DECODINGS = 20000    # give up on a digit run with more readings than this


# ---------------------------------------------------------------- tokens

@dataclass
class Token:
    kind: str    # "label" | "number"
    text: str
    start: int
    end: int


_PAGE_MARKER = re.compile(r"^[ \t]*[-—–－]{1,2}[ \t]*\d{1,3}[ \t]*[-—–－]{1,2}[ \t]*$", re.M)
_PLACEHOLDER = re.compile(r"数据\s*\d+")  # converter headers 数据1..数据6
_NOTE = re.compile(r"[（(][^（()）\n]{0,120}[)）]")
_NUMBER = re.compile(r"[+\-－]?\d+(?:[.．]\d+)?(?:万元|元)?")
_ENUMERATOR_AFTER = re.compile(r"\s*[.．、]\s*[\u4e00-\u9fff]")
_NOT_A_VALUE_AFTER = re.compile(r"[年月日号届期%％]")
_SEPARATOR = re.compile(r"^[\s|:\-—–#*]*$")


def _masked(text: str) -> str:
    """Text with page markers, placeholder headers and bracketed notes blanked out
    (same length, so character offsets stay those of the original)."""
    blank = lambda m: " " * len(m.group())  # noqa: E731
    text = _PAGE_MARKER.sub(blank, text)
    text = _PLACEHOLDER.sub(blank, text)
    return text


def tokenize(text: str) -> list[Token]:
    """Label and number tokens of `text`; separators (|, ---, blanks) are dropped."""
    masked = _masked(text)
    notes = [m.span() for m in _NOTE.finditer(masked)]
    tokens: list[Token] = []
    pos = 0
    for m in _NUMBER.finditer(masked):
        start, end = m.span()
        if _inside(notes, start) or _glued_to_word(masked, start, end):
            continue
        number_text = m.group()
        # '00000002.其他…': the last digit is the next row's enumerator, not a value
        if _ENUMERATOR_AFTER.match(masked, end) and "." not in number_text and "．" not in number_text:
            if len(number_text.lstrip("+-－")) == 1:
                continue
            end -= 1
            number_text = number_text[:-1]
        if start < pos:
            continue
        _add_label(tokens, masked, pos, start)
        tokens.append(Token("number", number_text, start, end))
        pos = end
    _add_label(tokens, masked, pos, len(masked))
    return tokens


def _inside(spans: list[tuple[int, int]], index: int) -> bool:
    """`index` lies in one of `spans` (in order, not overlapping: _NOTE's matches)."""
    at = bisect.bisect_right(spans, (index, float("inf"))) - 1
    return at >= 0 and spans[at][0] <= index < spans[at][1]


def _glued_to_word(text: str, start: int, end: int) -> bool:
    """Digits that are part of a word: '第711号', '2025年', 'ABC123'."""
    before = text[start - 1] if start else ""
    return bool(_NOT_A_VALUE_AFTER.match(text, end)) or before == "第" or before.isascii() and before.isalpha()


_LABEL_FRAGMENT = re.compile(r"[^\n|]+")


def _add_label(tokens: list[Token], text: str, start: int, end: int) -> None:
    """Label text between two numbers, split into fragments at line breaks and pipes."""
    for m in _LABEL_FRAGMENT.finditer(text, start, end):
        fragment = m.group()
        if not _SEPARATOR.match(fragment):
            tokens.append(Token("label", fragment.strip(), m.start(), m.end()))


@dataclass
class Row:
    """Label fragments and the run of numbers printed after them."""
    labels: list[Token]
    numbers: list[Token]

    @property
    def source(self) -> str:
        return f"text!{self.numbers[0].start}-{self.numbers[-1].end}"

    def label_parts(self, k: int) -> list[str]:
        return [t.text for t in self.labels[-k:]]


def rows_of(tokens: list[Token]) -> list[Row]:
    rows: list[Row] = []
    labels: list[Token] = []
    numbers: list[Token] = []
    for token in tokens:
        if token.kind == "number":
            numbers.append(token)
            continue
        if numbers:
            rows.append(Row(labels, numbers))
            labels, numbers = [], []
        labels.append(token)
    if numbers:
        rows.append(Row(labels, numbers))
    return rows


# ---------------------------------------------------------------- decoding digit runs

def _splits(token: str, max_digits: int = 7):
    """Ways of reading a digit string as consecutive numbers (no leading zeros)."""
    if not token:
        yield []
        return
    for i in range(1, min(len(token), max_digits) + 1):
        head = token[:i]
        if len(head) > 1 and head[0] == "0":
            break
        for rest in _splits(token[i:], max_digits):
            yield [int(head)] + rest


def decode(tokens: list[str], n: int, valid) -> list[list[float]]:
    """All readings of the number tokens as exactly n values that satisfy `valid`.

    Tokens that are not plain digit strings (decimals, signs, units) are kept whole.
    With exactly n tokens the reading is the tokens themselves, identity or not:
    the report's own figures are kept even when they do not add up.
    """
    values = [parse_cell_number(t) for t in tokens]
    if len(tokens) == n:
        return [[v.value for v in values]]
    if len(tokens) > n or any(not t.isdigit() for t in tokens):
        return []
    options = [list(_splits(t)) for t in tokens]
    found: list[list[float]] = []
    count = 0
    for combo in itertools.product(*options):
        count += 1
        if count > MAX_DECODINGS:
            return []
        flat = [v for part in combo for v in part]
        if len(flat) == n and valid(flat):
            found.append(flat)
    return found


def agreed(readings: list[list[float]]) -> dict[int, float]:
    """Positions on which every reading gives the same value."""
    if not readings:
        return {}
    return {i: v for i, v in enumerate(readings[0]) if all(r[i] == v for r in readings)}


def _digits(row: Row) -> list[str]:
    return [normalise_label(t.text) for t in row.numbers]


# ---------------------------------------------------------------- regions

_REQUESTS_HEADING = re.compile(r"收到和处理政府信息公开申请")
_REVIEWS_HEADING = re.compile(r"行政复议\s*[、和及与]\s*行政诉讼\s*情况|复议\s*[、和]\s*诉讼情况")
_END_HEADING = re.compile(r"存在的主要问题|其他需要报告|主要问题及改进")
_PROACTIVE_HEADING = re.compile(r"第\s*二\s*十\s*条")


def _regions(text: str, start_re: re.Pattern, end_re: re.Pattern) -> list[tuple[int, int]]:
    """Candidate spans: from each start heading to the next end heading."""
    spans = []
    for m in start_re.finditer(text):
        end = end_re.search(text, m.end())
        spans.append((m.start(), end.start() if end else len(text)))
    return spans


def _best(text: str, spans: list[tuple[int, int]], parse) -> list[Fact]:
    best: list[Fact] = []
    for start, end in spans:
        facts = parse(text[start:end], start)
        if len(facts) >= len(best) and facts:  # on a tie the later one: tables follow the overview
            best = facts
    return best


def _shift(fact: Fact, offset: int) -> Fact:
    a, b = fact.source.removeprefix("text!").split("-")
    fact.source = f"text!{int(a) + offset}-{int(b) + offset}"
    return fact


FLAT_TABLES = ("proactive", "requests", "reviews")
_REQUESTS_END = re.compile(_REVIEWS_HEADING.pattern + "|" + _END_HEADING.pattern)


def parse_flat_tables(text: str, era: str, tables: tuple[str, ...] | frozenset[str] = FLAT_TABLES,
                      grids_text_at: int | None = None, gridded: frozenset[str] = frozenset()) -> list[Fact]:
    """Facts of the tables named in `tables` (proactive = 二, requests = 三, reviews = 四).

    From `grids_text_at` on, `text` renders table grids the grid reader has read already: a
    table in `gridded` (one the grids gave) is looked for only before it, in the reader's own
    text, where a grid cut at a page break may have lost rows; the others everywhere."""
    if not text:
        return []

    def regions(table: str, start_re: re.Pattern, end_re: re.Pattern) -> list[tuple[int, int]]:
        spans = _regions(text, start_re, end_re)
        if grids_text_at is not None and table in gridded:
            spans = [span for span in spans if span[0] < grids_text_at]
        return spans

    facts: list[Fact] = []
    if "proactive" in tables:
        facts += _best(text, regions("proactive", _PROACTIVE_HEADING, _REQUESTS_HEADING),
                       lambda t, o: [_shift(f, o) for f in proactive_text_facts(t, era)])
    if "requests" in tables:
        facts += _best(text, regions("requests", _REQUESTS_HEADING, _REQUESTS_END),
                       lambda t, o: [_shift(f, o) for f in request_text_facts(t, era)])
    if "reviews" in tables:
        facts += _best(text, regions("reviews", _REVIEWS_HEADING, _END_HEADING),
                       lambda t, o: [_shift(f, o) for f in review_text_facts(t)])
    return facts


# ---------------------------------------------------------------- table 二

@functools.lru_cache(maxsize=None)
def _regex(pattern: str) -> re.Pattern:
    """A rule's pattern compiled once (re's own cache is a lookup per call, and this is the hot loop)."""
    return re.compile(pattern)


def _ordered_measures(text: str) -> list[str]:
    """Measures named in a header, in printed order. Rules claim text in priority
    order, so '上一年项目数量' is items_prev_year and not also a 项目数量 count."""
    core = label_core(text)
    claimed: list[tuple[int, int, str]] = []
    for key, pattern in MEASURE_RULES:
        for m in _regex(pattern).finditer(core):
            if not any(a < m.end() and m.start() < b for a, b, _ in claimed):
                claimed.append((m.start(), m.end(), key))
    out: list[str] = []
    for _, _, key in sorted(claimed):
        if key not in out:
            out.append(key)
    return out


def _item_row(row: Row) -> tuple[str | None, str, str]:
    """(item type, its label as printed, the header text before it) for a row of table 二."""
    for k in range(1, min(len(row.labels), MAX_LABEL_PARTS) + 1):
        fragment = row.labels[-k].text
        item_type, at = _last_item_type(fragment)
        if item_type:
            header = " ".join(t.text for t in row.labels[-MAX_LABEL_PARTS:-k]) + " " + fragment[:at]
            return item_type, fragment[at:].strip(), header
    return None, "", " ".join(row.label_parts(MAX_LABEL_PARTS))


def _last_item_type(text: str) -> tuple[str | None, int]:
    """The item type named last in a label fragment, and where its label starts."""
    text = _NOTE.sub(lambda m: " " * len(m.group()), text)  # guidance notes name other items
    best: tuple[str | None, int] = (None, -1)
    for key, pattern in ITEM_TYPE_RULES:
        for m in _regex(pattern.lstrip("^")).finditer(text):
            start = m.start()
            if text[max(0, start - 2):start] in ("行政", "其他"):  # the keyword's printed prefix
                start -= 2
            if start > best[1] and classify_item_type(text[start:]) == key:
                best = (key, start)
    return best


def proactive_text_facts(text: str, era: str) -> list[Fact]:
    facts: list[Fact] = []
    measures: list[str] = []
    header = ""
    for row in rows_of(tokenize(text)):
        item_type, label, before = _item_row(row)
        if _ordered_measures(before):
            measures, header = _ordered_measures(before), before
        if not item_type or not measures:
            continue
        readings = decode([t.text for t in row.numbers], len(measures), lambda v: True)
        if len(readings) != 1:
            continue  # cells lost or run together, and nothing tells them apart
        for measure, value_token, value in zip(measures, _value_tokens(row, len(measures)), readings[0]):
            number = parse_cell_number(value_token) if value_token else CellNumber(value)
            facts.append(proactive_fact(item_type, measure, number, label, row.source, header, era))
    return facts


def _value_tokens(row: Row, n: int) -> list[str | None]:
    """The printed cell text of each value when the run was already separated."""
    if len(row.numbers) == n:
        return [t.text for t in row.numbers]
    return [None] * n


# ---------------------------------------------------------------- table 三

def request_text_facts(text: str, era: str) -> list[Fact]:
    facts: list[Fact] = []
    for row in rows_of(tokenize(text)):
        stacked = _stacked_rows(row, era)
        if stacked is not None:
            for (key, label), values in stacked:
                facts += [request_fact(key, applicant, CellNumber(value), label, row.source)
                          for applicant, value in values.items()]
            continue
        key, label = _request_row_key(row, era)
        if key is None:
            continue
        for applicant, value in _applicant_values(_digits(row)).items():
            facts.append(request_fact(key, applicant, CellNumber(value), label, row.source))
    return facts


def _stacked_rows(row: Row, era: str) -> list[tuple[tuple[str, str], dict[str, float]]] | None:
    """Labels printed one under another with their numbers after the last one
    ('（一）予以公开 / （二）部分公开 / 5 0 0 0 0 0 5 / 3 0 0 0 0 0 3'): a run of m whole
    rows belongs to the last m labels that name rows, in order, when every row adds up
    to its 总计. A run of several rows that cannot be placed so gives no values ([]),
    never the first row's numbers under the nearest label. None: not such a run."""
    width = len(APPLICANT_ORDER)
    digits = _digits(row)
    if len(digits) < 2 * width or len(digits) % width or not all(d.isdigit() for d in digits):
        return None
    named: list[tuple[str, str]] = []
    for fragment in row.labels[-MAX_LABEL_PARTS:]:
        key = classify_request_row([fragment.text], era)
        if key and (not named or named[-1][0] != key):
            named.append((key, fragment.text.strip()))
    groups = [[int(d) for d in digits[i:i + width]] for i in range(0, len(digits), width)]
    if len(named) < len(groups) or any(sum(g[:-1]) != g[-1] for g in groups):
        return []
    return [(label, dict(zip(APPLICANT_ORDER, g))) for label, g in zip(named[-len(groups):], groups)]


def _request_row_key(row: Row, era: str) -> tuple[str | None, str]:
    """The row key from the nearest label fragments that name one."""
    for k in range(1, min(len(row.labels), MAX_LABEL_PARTS) + 1):
        parts = row.label_parts(k)
        key = classify_request_row(parts, era)
        if key:
            return key, _trim_label(" ".join(p.strip() for p in parts), key, era)
    return None, ""


_ROW_START = re.compile(r"[一二三四五六七八九十]、|[（(][一二三四五六七八九十][)）]|\d[.．、]")


def _trim_label(label: str, key: str, era: str) -> str:
    """Drop header text run into a label: keep it from the first row marker
    ('一、', '（三）', '1.') from which it still names the same row."""
    for m in _ROW_START.finditer(label):
        if classify_request_row([label[m.start():]], era) == key:
            return label[m.start():]
    return label


def _applicant_values(tokens: list[str]) -> dict[str, float]:
    """Applicant -> value for one row of table 三 (six applicant columns + 总计).

    A run of 8 numbers whose first seven add up to the last is a table with an
    extra column: only 自然人 and 总计 are certain there.
    """
    n = len(APPLICANT_ORDER)
    row_adds_up = lambda v: sum(v[:-1]) == v[-1]  # noqa: E731
    if len(tokens) == n + 1:
        values = [parse_cell_number(t).value for t in tokens]
        if row_adds_up(values):
            return {"natural_person": values[0], "total": values[-1]}
    if len(tokens) > n:
        tokens = tokens[:n]  # a label-less run printed after the row belongs to no label
    return {APPLICANT_ORDER[i]: v for i, v in agreed(decode(tokens, n, row_adds_up)).items()}


# ---------------------------------------------------------------- table 四

def review_text_facts(text: str) -> list[Fact]:
    """Fifteen numbers: 行政复议, 未经复议直接起诉, 复议后起诉 × 维持/纠正/其他/尚未审结/总计."""
    header = re.search(r"维\s*持", text)
    if not header:
        return []
    numbers = [t for row in rows_of(tokenize(text)) for t in row.numbers if t.start > header.start()]
    if not numbers:
        return []
    n = len(PROCEEDING_ORDER) * len(RESULT_ORDER)
    tokens = [normalise_label(t.text) for t in numbers][: n]
    used = numbers[: n]
    readings = decode(tokens, n, _reviews_add_up)
    source = f"text!{used[0].start}-{used[-1].end}"
    facts = []
    for i, value in agreed(readings).items():
        proceeding = PROCEEDING_ORDER[i // len(RESULT_ORDER)]
        result = RESULT_ORDER[i % len(RESULT_ORDER)]
        facts.append(review_fact(proceeding, result, CellNumber(value), review_label(proceeding, result), source))
    return facts


def _reviews_add_up(values: list[float]) -> bool:
    return all(sum(values[i:i + 4]) == values[i + 4] for i in range(0, len(values), 5))
