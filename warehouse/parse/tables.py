"""Table eras: grids of tables 二, 三, 四 -> facts.

Tables are recognised by their content, never by position: a page's first
<table> is often its metadata box. Row labels, column headers and applicant
types are mapped to keys by keyword rules on `normalise_label` text with
bracketed notes removed, so wording drift, guidance text left in a cell and
half/full-width brackets do not matter.

The label classifiers here are shared with `text_tables` (tables flattened
into text).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

from warehouse.eras import era_named
from warehouse.facts import Fact
from warehouse.parse.numbers import ZERO_MARKERS, CellNumber, normalise_label, parse_cell_number

# ---------------------------------------------------------------- label rules
# Each list is ordered most specific first; patterns run on `label_core` text.

REQUEST_ROW_RULES: tuple[tuple[str, str], ...] = (
    ("other_no_correction", r"不补正"),
    ("other_fee_unpaid", r"收费通知|缴纳费用|未按.*缴纳"),
    ("withheld_state_secret", r"国家秘密"),
    ("withheld_prohibited_by_law", r"禁止公开|法律行政.{0,2}止公开|法律、?行政法规"),
    ("withheld_security_stability", r"三安全|一稳定"),
    ("withheld_third_party", r"第三方"),
    ("withheld_internal_affairs", r"内部事务"),
    ("withheld_process_information", r"过程性"),
    ("withheld_enforcement_files", r"执法案卷"),
    ("withheld_query_matter", r"查询事项"),
    ("unavailable_not_held", r"不掌握"),
    ("unavailable_needs_creation", r"另行制作|没有现成"),
    ("unavailable_unclear", r"仍不明确|补正后"),
    ("not_handled_petition", r"信访|举报投诉"),
    ("not_handled_repeated", r"重复申请"),
    ("not_handled_publication", r"出版物"),
    ("not_handled_excessive", r"大量反复"),
    ("not_handled_confirmation", r"重新出具|要求行政机关确认"),
    ("partially_granted", r"部分公开"),
    ("granted", r"予以公开"),
    ("received_new", r"本年(度)?新收|新收.*申请"),
    ("carried_over", r"上年(度)?结转"),
    ("carried_forward", r"结转下(一)?年|转下(一)?年|继续办理"),
    ("other_handling", r"其他处理"),
    ("handled_total", r"^(\(七\)|七、)?(总计|合计)$"),
)

ITEM_TYPE_RULES: tuple[tuple[str, str], ...] = (
    ("other_external_services", r"对外管理服务"),
    ("normative_documents", r"^(行政)?规范性文件"),
    ("rules", r"^规章"),
    ("administrative_licensing", r"^行政许可"),
    ("administrative_penalty", r"^行政处罚"),
    ("administrative_coercion", r"^行政强制"),
    ("administrative_fees", r"事业性收费"),
    ("centralized_procurement", r"集中采购|政府采购"),
)

MEASURE_RULES: tuple[tuple[str, str], ...] = (
    ("issued", r"制发"),
    ("repealed", r"废止"),
    ("in_force", r"现行有效"),
    ("newly_made", r"新制作"),
    ("newly_published", r"新公开"),
    ("published_total", r"公开总数|总数量"),
    ("items_prev_year", r"上一?年(项目)?(数量)?"),
    ("items_change", r"增/?减"),
    ("decisions", r"处理决定|决定数"),
    ("count", r"(采购)?项目数量?|采购数量"),
    ("amount", r"金额"),
)

APPLICANT_RULES: tuple[tuple[str, str], ...] = (
    ("natural_person", r"自然人"),
    ("commercial_enterprise", r"商业"),
    ("research_institution", r"科研"),
    ("public_welfare_org", r"公益"),
    ("legal_service_org", r"法律服务"),
    ("other_org", r"^其他(组织|机构)?$"),
    ("total", r"^(总计|合计)$"),
)
APPLICANT_ORDER = tuple(key for key, _ in APPLICANT_RULES)

PROCEEDING_RULES: tuple[tuple[str, str], ...] = (
    ("litigation_after_reconsideration", r"复议后"),
    ("litigation_direct", r"未经复议|直接起诉"),
    ("reconsideration", r"行政复议|^复议"),
)
PROCEEDING_ORDER = ("reconsideration", "litigation_direct", "litigation_after_reconsideration")

RESULT_RULES: tuple[tuple[str, str], ...] = (
    ("upheld", r"维持"),
    ("corrected", r"纠正|纠错"),
    ("other", r"其他"),
    ("pending", r"审结|未结"),
    ("total", r"总计|合计|^总$"),  # '总' alone: a PDF cell whose second character was clipped
)
RESULT_ORDER = ("upheld", "corrected", "other", "pending", "total")

_BRACKETED = re.compile(r"\([^()]*\)|“|”|\"")
_OPEN_NOTE = re.compile(r"\((?![一二三四五六七八九十\d]\)).*$")
_ENUMERATOR = re.compile(r"^(?:[一二三四五六七八九十]+、|\d{1,2}[.、．]|\([一二三四五六七八九十\d]+\))+")


@lru_cache(maxsize=8192)  # the same labels and headers come back on every pass and in every report
def label_core(label: str) -> str:
    """A label reduced to its wording: normalised, bracketed notes and enumerators removed.

    '（二）部分公开（区分处理的，只计这一情形）' -> '部分公开';
    '规章(设区的市…应提供相关数据)' -> '规章'; '3.其他' -> '其他'.
    """
    text = normalise_label(label)
    text = _ENUMERATOR.sub("", text)
    previous = None
    while previous != text:
        previous, text = text, _BRACKETED.sub("", text)
    text = _OPEN_NOTE.sub("", text)  # a note cut off before its closing bracket
    return _ENUMERATOR.sub("", text)


@lru_cache(maxsize=None)
def _compiled(rules: tuple[tuple[str, str], ...]) -> tuple[tuple[str, re.Pattern], ...]:
    return tuple((key, re.compile(pattern)) for key, pattern in rules)


@lru_cache(maxsize=16384)  # the same label cores are classified on every pass and in every report
def match_rules(text: str, rules: tuple[tuple[str, str], ...]) -> str | None:
    for key, pattern in _compiled(rules):
        if pattern.search(text):
            return key
    return None


def classify_request_row(parts: list[str], era: str) -> str | None:
    """Row key of table 三 from its label cells (group cell first, sub cell last).

    The sub cell decides; the group decides only when the sub cell says nothing
    ('（六）其他处理' + '3.其他' -> other_other).
    """
    cores = [label_core(p) for p in parts if p.strip()]
    if not cores:
        return None
    last = cores[-1]
    if last == "其他":
        return "other_other" if _other_split(era) or any("其他处理" in c for c in cores[:-1]) else None
    rules = _request_row_rules(era)
    key = match_rules(last, rules)
    if key is None and len(cores) > 1:
        key = match_rules("".join(cores), rules)
    return key


def _request_row_rules(era: str | None) -> tuple[tuple[str, str], ...]:
    """The era's own wordings of table 三 rows (warehouse.eras), then the shared rules."""
    own = era_named(era).request_row_labels if era else ()
    return own + REQUEST_ROW_RULES if own else REQUEST_ROW_RULES


def _other_split(era: str | None) -> bool:
    """Whether the era's table 三 splits 其他处理 into rows, the last one a bare 其他."""
    return bool(era) and "other_other" in era_named(era).other_handling_rows


def classify_item_type(label: str) -> str | None:
    return match_rules(label_core(label), ITEM_TYPE_RULES)


def classify_measure(header: str) -> str | None:
    return match_rules(label_core(header), MEASURE_RULES)


def classify_applicant(header: str) -> str | None:
    return match_rules(label_core(header), APPLICANT_RULES)


def amount_unit(text: str) -> str | None:
    """The money unit printed in a header or cell: '本年收费金额（单位：万元）' -> '万元'."""
    m = re.search(r"(万元|亿元|元)", normalise_label(text))
    return m.group(1) if m else None


# ---------------------------------------------------------------- fact builders

def proactive_fact(item_type: str, measure: str, number: CellNumber, label: str, source: str,
                   header: str, era: str) -> Fact:
    unit = None
    if measure == "amount":
        unit = number.unit or amount_unit(header) or (era_named(era).amount_unit if era else None)
    return Fact("proactive", {"item_type": item_type, "measure": measure}, number.value,
                label_zh=label, source=source, unit=unit, approximate=number.approximate)


def request_fact(row: str, applicant: str, number: CellNumber, label: str, source: str) -> Fact:
    return Fact("requests", {"row": row, "applicant": applicant}, number.value,
                label_zh=label, source=source, approximate=number.approximate)


def review_fact(proceeding: str, result: str, number: CellNumber, label: str, source: str) -> Fact:
    return Fact("reviews", {"proceeding": proceeding, "result": result}, number.value,
                label_zh=label, source=source, approximate=number.approximate)


def review_label(proceeding: str, result: str) -> str:
    from warehouse.metrics import PROCEEDINGS, RESULTS

    names = {k.key: k.label_zh for k in PROCEEDINGS + RESULTS}
    return f"{names[proceeding]}·{names[result]}"


# ---------------------------------------------------------------- grids

@dataclass
class Grid:
    index: int
    rows: list[list[str]]

    def source(self, r: int, c: int) -> str:
        return f"table{self.index}!r{r + 1}c{c + 1}"


def _unique(parts: list[str]) -> list[str]:
    """Label cells of a row with span repeats removed, in order."""
    out: list[str] = []
    for p in parts:
        p = p.strip()
        if p and p not in out:
            out.append(p)
    return out


_ZERO_CELLS = {normalise_label(m) for m in ZERO_MARKERS} - {""}
_LEADING_DIGIT = re.compile(r"[+\-]?\d")
# A sub-row label numbered '2.' or '2、' ('2.没有现成信息需要另行制作'): its number counts rows.
_NUMBERED_LABEL = re.compile(r"\d{1,2}[.、][\u4e00-\u9fff]")


@lru_cache(maxsize=8192)  # asked of every cell on every pass over a grid
def _is_number_cell(cell: str) -> bool:
    """A cell stating a value: a number, or a zero marker ('—', '/', '无', '〇'), not blank.

    Not a numbered sub-row label: where a table continues on the next page, its first rows
    often keep only that label, their group cell (（四）无法提供, spanning several rows)
    having stayed on the page before."""
    core = normalise_label(cell)
    if core in _ZERO_CELLS:
        return True
    return bool(core) and parse_cell_number(cell, blank_is_zero=False) is not None and bool(
        _LEADING_DIGIT.match(core)) and not _NUMBERED_LABEL.match(core)


def parse_table_facts(tables: list, era: str) -> list[Fact]:
    """Facts of tables 二, 三 and 四 from every table grid that holds one of them."""
    facts: list[Fact] = []
    applicant_columns: dict[int, str] | None = None
    for table in tables:
        grid = Grid(table.index, table.rows)
        if not grid.rows:
            continue
        facts += proactive_grid_facts(grid, era)
        request_facts, applicant_columns = request_grid_facts(grid, era, applicant_columns)
        facts += request_facts
        facts += review_grid_facts(grid)
    return facts


# -- table 二

def proactive_grid_facts(grid: Grid, era: str) -> list[Fact]:
    """Rows of table 二: a header row of measures, then item rows, block after block."""
    if not any(row and classify_item_type(row[0]) for row in grid.rows):
        return []  # no row names an item (tables 三, 四): no header search on every row
    facts: list[Fact] = []
    measures: dict[str, int] = {}
    headers: dict[int, str] = {}
    for r, row in enumerate(grid.rows):
        row_measures = _measure_columns(row)
        if row_measures:
            measures, headers = row_measures, {c: row[c] for c in row_measures.values()}
            continue
        item_type = classify_item_type(row[0]) if row else None
        if not item_type or not measures:
            continue
        label = " ".join(_unique([row[0]]))
        for measure, c in measures.items():
            if c >= len(row):
                continue
            number = parse_cell_number(row[c])
            if number is not None:
                facts.append(proactive_fact(item_type, measure, number, label, grid.source(r, c),
                                            headers.get(c, ""), era))
    return facts


def _measure_columns(row: list[str]) -> dict[str, int]:
    """measure -> first column, for a header row (no number cells, measures after column 0)."""
    if any(_is_number_cell(c) for c in row[1:]):
        return {}
    columns: dict[str, int] = {}
    for c, cell in enumerate(row[1:], start=1):
        measure = classify_measure(cell)
        if measure and measure not in columns:
            columns[measure] = c
    return columns


# -- table 三

def request_grid_facts(grid: Grid, era: str, inherited: dict[int, str] | None
                       ) -> tuple[list[Fact], dict[int, str] | None]:
    """Rows of table 三. A table without its own header (continued on the next PDF page)
    reuses the applicant columns of the previous one. The columns are aligned on the
    table's right edge: the continuation often spreads its labels over more columns
    (group cell + sub cell) than the page with the header did."""
    first_data = _first_request_row(grid, era)
    if first_data is None:
        return [], inherited
    columns = _applicant_columns(grid.rows[:first_data])
    if not columns and inherited:
        columns = _continued_columns(grid, first_data, inherited)
    if not columns:
        return [], inherited
    label_end = min(columns)
    facts: list[Fact] = []
    for r in range(first_data, len(grid.rows)):
        row = grid.rows[r]
        parts = _unique(row[:label_end])
        key = classify_request_row(parts, era)
        if key is None:
            continue
        label = " ".join(parts)
        numbers = {c: parse_cell_number(row[c]) if c < len(row) else None for c in columns}
        for c in unstated_blank_cells(row, columns, numbers):
            numbers[c] = None
        for c, applicant in columns.items():
            if numbers[c] is not None:
                facts.append(request_fact(key, applicant, numbers[c], label, grid.source(r, c)))
    width = len(grid.rows[0])
    # remembered as offsets from the right edge (negative), for a continuation
    return facts, {c - width: a for c, a in columns.items()}


def unstated_blank_cells(row: list[str], columns: dict[int, str], numbers: dict) -> list[int]:
    """Blank cells that are not the report's zero: a blank 总计 beside non-zero applicant
    cells, or blank applicant cells beside a non-zero 总计 (the row was not broken down).
    Elsewhere a blank cell in a stated table is a zero."""
    blank = {c for c in columns if c >= len(row) or not row[c].strip()}
    total = next((c for c, a in columns.items() if a == "total"), None)
    if total is None or not blank:
        return []
    parts = [c for c in columns if c != total]
    if total in blank and any(numbers[c] is not None and numbers[c].value for c in parts):
        return [total]
    if numbers[total] is not None and numbers[total].value and parts and all(c in blank for c in parts):
        return parts
    return []


def _continued_columns(grid: Grid, first_data: int, inherited: dict[int, str]) -> dict[int, str]:
    """The previous table's applicant columns (offsets from its right edge) placed in this
    grid, when they fit: label cells before them, values (or blanks) in them."""
    width = len(grid.rows[0])
    columns = {width + offset: a for offset, a in inherited.items()}
    if min(columns) < 1:
        return {}
    row = grid.rows[first_data]
    if all(_is_number_cell(c) or not c.strip() for c in row[:min(columns)]):
        return {}  # no label before the first applicant column
    if any(c.strip() and not _is_number_cell(c) for c in (row[i] for i in columns)):
        return {}
    return columns


def _first_request_row(grid: Grid, era: str) -> int | None:
    """The first row whose label cells name a row of table 三. Three such rows are needed,
    unless a header of applicant columns stands above them (a table cut by a page break
    may keep only 一、本年新收 and 二、上年结转 on the first page)."""
    hits = []
    for r, row in enumerate(grid.rows):
        labels = list(islice((c for c in row if c.strip() and not _is_number_cell(c)), 3))  # the first three
        if labels and classify_request_row(_unique(labels), era) and any(_is_number_cell(c) or not c.strip() for c in row):
            hits.append(r)
            if len(hits) == 3:
                break
    if len(hits) >= 3 or (hits and _applicant_columns(grid.rows[:hits[0]])):
        return hits[0]
    return None


def _applicant_columns(header_rows: list[list[str]]) -> dict[int, str]:
    """column -> applicant key, read bottom-up through the header rows (the most specific
    header wins: '商业企业' under '法人或其他组织'); a repeated key keeps its first column."""
    columns: dict[int, str] = {}
    seen: set[str] = set()
    width = max((len(r) for r in header_rows), default=0)
    for c in range(width):
        for row in reversed(header_rows):
            if c < len(row) and row[c].strip():
                applicant = classify_applicant(row[c])
                if applicant:
                    if applicant not in seen:
                        columns[c] = applicant
                        seen.add(applicant)
                    break
    return columns if {"total"} <= seen or len(seen) >= 3 else {}


# -- table 四

def review_grid_facts(grid: Grid) -> list[Fact]:
    """Table 四: proceedings and results from the header rows, numbers from the data rows.

    Layouts: one 15-cell data row under two or three header rows, with or without a row
    label; a row per proceeding, labelled in one or more cells (行政诉讼 | 复议后起诉), with
    the results as columns. A data row of blank cells (or '—', '无') states zeros.
    """
    header_end = _review_header_end(grid.rows)
    if header_end is None:
        return []
    header_rows = grid.rows[:header_end]
    body = [(r, grid.rows[r]) for r in range(header_end, len(grid.rows))]
    labelled = [(r, row, p) for r, row in body if _is_value_row(row) and (p := _row_proceeding(row))]
    if labelled:
        rows = labelled
    else:
        # the whole table in one data row: the first row with figures, else a blank one
        data = [(r, row) for r, row in body if _is_value_row(row)]
        with_numbers = [(r, row) for r, row in data if any(_is_number_cell(c) for c in row)]
        rows = [(r, row, None) for r, row in (with_numbers or data)[:1]]
    facts: list[Fact] = []
    seen: set[tuple[str, str]] = set()
    for r, row, row_proceeding in rows:
        for c, cell in enumerate(row):
            if cell.strip() and not _is_number_cell(cell):
                continue
            proceeding, result = _review_column(header_rows, c)
            proceeding = row_proceeding or proceeding
            if not proceeding or not result or (proceeding, result) in seen:
                continue
            number = parse_cell_number(cell)
            if number is not None:
                seen.add((proceeding, result))
                facts.append(review_fact(proceeding, result, number, review_label(proceeding, result),
                                         grid.source(r, c)))
    return facts


def _match_proceeding(text: str) -> str | None:
    """The proceeding a label names; the bracketed note counts here, since it often is
    the name itself: '行政诉讼（复议后起诉）'."""
    return match_rules(label_core(text), PROCEEDING_RULES) or match_rules(normalise_label(text), PROCEEDING_RULES)


def _row_proceeding(row: list[str]) -> str | None:
    """The proceeding named by a row's label cells (all its non-number cells)."""
    labels = _unique([c for c in row if c.strip() and not _is_number_cell(c)])
    if not labels or any(match_rules(label_core(c), RESULT_RULES) for c in labels):
        return None  # a header row, not a labelled data row
    return _match_proceeding("".join(labels))


def _is_value_row(row: list[str]) -> bool:
    """A row that states values: number cells, or cells left blank, beside its labels."""
    values = [c for c in row if not c.strip() or _is_number_cell(c)]
    return len(values) >= 2 or any(_is_number_cell(c) for c in row)


def _review_header_end(rows: list[list[str]]) -> int | None:
    """Index of the first row after the header, when the header names 复议/诉讼 and results.

    The header ends at the first row with a number cell, or at a row of blank cells once
    the header is complete (a table of blanks states zeros), or at the first row labelled
    with a proceeding (a table with a row per proceeding)."""
    text = ""
    for r, row in enumerate(rows):
        core = label_core(text)
        complete = "复议" in core and "诉讼" in core and "维持" in core
        labelled_from_here = "维持" in core and _labelled_body(rows[r:])
        if any(_is_number_cell(c) for c in row) or (complete and not any(c.strip() for c in row)):
            return r if complete or labelled_from_here else None
        if labelled_from_here and _row_proceeding(row):
            return r  # the first row labelled with a proceeding, its cells still blank
        text += " ".join(row)
    return None


def _labelled_body(rows: list[list[str]]) -> bool:
    """Rows labelled 行政复议 and 诉讼 (a table with a row per proceeding)."""
    found = {_row_proceeding(row) for row in rows}
    return "reconsideration" in found and bool(found & {"litigation_direct", "litigation_after_reconsideration"})


def _review_column(header_rows: list[list[str]], c: int) -> tuple[str | None, str | None]:
    cells = [row[c] for row in header_rows if c < len(row)]
    proceeding = _match_proceeding("".join(cells))
    for cell in reversed(cells):
        result = match_rules(label_core(cell), RESULT_RULES)
        if result:
            return proceeding, result
    return proceeding, None
