"""Era P: the statistics table (政府信息公开情况统计表), as a grid or flattened into text.

Columns are 统计指标 | 单位 | 统计数, or 指标名称 | 计量单位 | 本年度 | 历年累计.
Flattened text may keep spaces between cells ('条 425 1516') or lose them
('条206912106' = 2069 | 12106). Runs without separators are decoded only when a
single split fits (the cumulative column is never below the year's), or when
the prose states one of the possible values; otherwise nothing is emitted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from warehouse.facts import Fact
from warehouse.parse.numbers import normalise_label, parse_cell_number
from warehouse.parse.textnorm import NormText


@dataclass(frozen=True)
class Indicator:
    pattern: str
    table: str
    dims: tuple[str, str]


# Order matters where labels overlap ('不同意公开答复数' contains '同意公开答复数').
INDICATORS: tuple[Indicator, ...] = (
    Indicator(r"主动公开(?:政府)?(?:行政)?规范性文件数", "proactive", ("normative_documents", "count")),
    Indicator(r"主动公开(?:政府)?(?:信息|文件)(?:总)?数", "proactive", ("all_items", "count")),
    Indicator(r"(?:收到|受理)(?:依)?申请(?:公开信息)?(?:总)?数|受理依申请公开信息总数", "requests", ("received_new", "total")),
    Indicator(r"申请办结数", "requests", ("handled_total", "total")),
    Indicator(r"同意部分公开答复数", "requests", ("partially_granted", "total")),
    Indicator(r"(?:不同意|否决|不予)公开答复数", "requests", ("withheld", "total")),
    Indicator(r"(?<!不)同意公开答复数", "requests", ("granted", "total")),
    Indicator(r"不属于本(?:行政)?机关(?:公开)?(?:职责)?(?:范围)?数", "requests", ("unavailable_not_held_other_body", "total")),
    Indicator(r"申请(?:公开的)?信息不存在数", "requests", ("unavailable_nonexistent", "total")),
    Indicator(r"行政复议(?:案件)?数(?:量)?", "reviews", ("reconsideration", "total")),
    Indicator(r"(?<![、])行政诉讼(?:案件)?数(?:量)?", "reviews", ("litigation", "total")),
    Indicator(r"维持具体行政行为数", "reviews", ("", "upheld")),
    Indicator(r"被依法纠错数", "reviews", ("", "corrected")),
    Indicator(r"其他情形数", "reviews", ("", "other")),
)
_UNITS = r"(?:万元|人次|条|件|项|个|元|份|次|宗|起)"
# The header of the table: '统计指标 单位 统计数' or '指标名称 计量单位 2011年度 历年累计'.
_HEADER = re.compile(r"(?:统计指标|指标名称)\s*(?:计量)?\s*单\s*位")


def _indicator_regex() -> re.Pattern:
    parts = [f"(?P<i{n}>{ind.pattern})" for n, ind in enumerate(INDICATORS)]
    return re.compile("|".join(parts))


_INDICATOR_RE = _indicator_regex()
_VALUE_AFTER = re.compile(r"\s*(?P<unit>" + _UNITS + r")?\s*(?P<run>\d[\d\s]*?)\s*(?P<numbering>\d[.、．](?=\D))?(?=\D|$)")


def _proceeding_dims(ind: Indicator, proceeding: str | None) -> dict | None:
    """Sub-rows (维持/纠错/其他) belong to the proceeding row above them."""
    first, second = ind.dims
    if ind.table == "reviews" and not first:
        return {"proceeding": proceeding, "result": second} if proceeding else None
    keys = {"proactive": ("item_type", "measure"), "requests": ("row", "applicant"),
            "reviews": ("proceeding", "result")}[ind.table]
    return dict(zip(keys, ind.dims))


def _valid_part(digits: str) -> bool:
    return digits == "0" or not digits.startswith("0")


def decode_joined(run: str, hint: float | None = None) -> int | None:
    """The year's value of a two-column run that lost its separator ('206912106' → 2069).

    A split is possible when neither part has a leading zero and the cumulative
    part is not below the year's. One possible split: its value; several: the
    prose's value when it is one of them; else None.
    """
    splits = [(int(run[:i]), int(run[i:])) for i in range(1, len(run))
              if _valid_part(run[:i]) and _valid_part(run[i:]) and int(run[i:]) >= int(run[:i])]
    values = {a for a, _ in splits}
    if len(values) == 1:
        return values.pop()
    if hint is not None and hint in values:
        return int(hint)
    return None


@dataclass
class _Layout:
    columns: int        # value columns: 1 (统计数) or 2 (年度 + 累计)
    year_first: bool
    spaced: bool        # cells still separated by white space


def _layout(body: str) -> _Layout:
    columns = body[:16]  # the column headings right after 单位
    two = "累计" in columns
    year_first = not two or -1 < columns.find("年") < columns.find("累计")
    spaced = re.search(_UNITS + r"\s+\d+\s+\d", body) is not None
    return _Layout(2 if two else 1, year_first, spaced)


def _value_from_run(run: str, layout: _Layout, hint: float | None) -> int | None:
    tokens = run.split()
    if not tokens:
        return None
    if layout.columns == 1 or layout.spaced:
        index = 0 if layout.year_first or len(tokens) == 1 else 1
        return int(tokens[min(index, len(tokens) - 1)])
    joined = "".join(tokens)
    return decode_joined(joined, hint) if layout.year_first else None


def text_table_facts(norm: NormText, original: str, hints: dict[tuple, float]) -> list[Fact]:
    """Facts of a statistics table flattened into the text (after its header)."""
    headers = list(_HEADER.finditer(norm.text))
    if not headers:
        return []
    header = headers[-1]
    body = norm.text[header.end():]
    layout = _layout(body)
    facts: list[Fact] = []
    proceeding = None
    for m in _INDICATOR_RE.finditer(body):
        ind = INDICATORS[int(m.lastgroup[1:])]
        if ind.table == "reviews" and ind.dims[0]:
            proceeding = ind.dims[0]
        dims = _proceeding_dims(ind, proceeding)
        value_match = _VALUE_AFTER.match(body, m.end())
        if not dims or not value_match:
            continue
        fact = Fact(ind.table, dims, 0)
        value = _value_from_run(value_match.group("run"), layout, hints.get(fact.key))
        if value is None:
            continue
        start, end = header.end() + m.start(), header.end() + value_match.end("run")
        o_start, o_end = norm.offsets[start], norm.offsets[header.end() + m.end() - 1] + 1
        fact.value, fact.unit = value, value_match.group("unit")
        fact.label_zh, fact.source = original[o_start:o_end], norm.source(start, end)
        facts.append(fact)
    return facts


# ---------------------------------------------------------------- grids

def _rows_of(table) -> tuple[int, list[list[str]]]:
    """A documents.Table, or a bare grid (list of rows)."""
    if isinstance(table, list):
        return 0, table
    return table.index, table.rows


def _value_column(rows: list[list[str]]) -> int | None:
    for row in rows[:3]:
        cells = [normalise_label(c) for c in row]
        if any("单位" in c for c in cells):
            for col, cell in enumerate(cells):
                if re.search(r"统计数|年度|本年|数量", cell) and "累计" not in cell and "指标" not in cell:
                    return col
    return None


def grid_table_facts(tables) -> list[Fact]:
    """Facts of statistics tables given as grids (lists of rows of cell strings)."""
    facts: list[Fact] = []
    for position, table in enumerate(tables or [], start=1):
        index, rows = _rows_of(table)
        value_col = _value_column(rows)
        proceeding = None
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                m = _INDICATOR_RE.search(normalise_label(cell))
                if not m:
                    continue
                ind = INDICATORS[int(m.lastgroup[1:])]
                if ind.table == "reviews" and ind.dims[0]:
                    proceeding = ind.dims[0]
                dims = _proceeding_dims(ind, proceeding)
                col = value_col if value_col is not None and value_col > c else _first_number_col(row, c)
                number = parse_cell_number(row[col]) if dims and col is not None and col < len(row) else None
                if number is not None:
                    facts.append(Fact(ind.table, dims, number.value, label_zh=cell.strip(),
                                      source=f"table{index or position}!r{r + 1}c{col + 1}", unit=number.unit))
                break
    return facts


def _first_number_col(row: list[str], label_col: int) -> int | None:
    for col in range(label_col + 1, len(row)):
        text = normalise_label(row[col])
        if re.fullmatch(r"[\d,.]+", text):
            return col
    return None
