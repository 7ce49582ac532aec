"""Read an HTML <table> into a rectangular grid with row/col spans expanded.

A spanned cell repeats its text in every grid position it covers, so a group
label (rowspan 20) is present on each of its rows and a header that spans
three columns sits above each of them. Nested tables are read as their own
tables; their text is not folded into the outer cell (unless the nested table is a
single cell, a mere frame around the text).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import html as lxml_html

_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u3000\u200b]+")


@dataclass(frozen=True)
class TableLimits:
    """Bounds on one table grid (HTML, PDF or DOCX), checked while it is built, so a hostile
    table costs at most these many cells, never rows x columns of what its markup claims.
    Real maxima (the ../shared corpus, the demo portal, the saved sites): spans 22 rows and
    10 columns, 28 rows x 15 columns, 308 cells and 1,453 characters of text in a table."""

    # Browsers clamp colspan at 1000 (HTML standard); a wider span is read as 1000.
    max_colspan: int = 1000
    # Browsers clamp rowspan at 65534; a span is also cut at the table's last row, as the rows
    # it names below that do not exist (real Word-pasted pages use large rowspans).
    max_rowspan: int = 65534
    # rows x columns of one grid: 160x the largest real table; past it the table is cut.
    max_cells: int = 50_000
    # Characters of a grid's text, a spanned cell counted in every position it covers (one cell
    # of long text spanned wide would render as gigabytes): 690x the real maximum. HTML grids
    # count their spanned cells only: their other cells are text of the page, bounded by its size.
    max_chars: int = 1_000_000


DEFAULT_TABLE_LIMITS = TableLimits()


class GridTooLarge(Exception):
    """A table grid reached a TableLimits bound; the message says which and by how much."""


def cell_text(cell) -> str:
    """Visible text of a cell: Word-pasted spans joined, <p>/<br> as one space, &nbsp; folded."""
    if len(cell):
        parts: list[str] = []
        _collect_text(cell, parts, top=cell)
        text = "".join(parts)
    else:  # most cells: plain text, no markup inside
        text = cell.text or ""
    # Printable text without a space has nothing to fold or strip (every other blank,
    # \n and &nbsp; included, is unprintable): most cells, and the regex is skipped.
    if " " in text or not text.isprintable():
        text = _SPACES.sub(" ", text.replace("\n", " ")).strip()
    return text


def _collect_text(node, parts: list[str], top) -> None:
    # every lxml property read (tag, text, tail) builds a new str: each is read once
    tag = node.tag
    if not isinstance(tag, str):  # a comment or processing instruction: its tail only
        tag = ""
    inner = node is not top
    # a nested table is its own table, except a one-cell table: that is a frame around the
    # cell's text (editor markup), and its text is what the cell shows
    if tag in ("script", "style") or (tag == "table" and inner and not _is_frame(node)):
        tail = node.tail
        if tail and inner:
            parts.append(tail)
        return
    block = inner and tag in _BLOCK_TAGS
    if block:
        parts.append(" ")
    if tag:
        text = node.text
        if text:
            parts.append(text)
    for child in node:
        _collect_text(child, parts, top)
    if block:
        parts.append(" ")
    if inner:
        tail = node.tail
        if tail:
            parts.append(tail)


def _is_frame(table) -> bool:
    cells = 0
    for _ in table.iter("td", "th"):
        cells += 1
        if cells > 1:
            return False
    return True


_DIGITS = re.compile(r"\d+")
_HUGE = 10 ** 9  # any span of more than 9 digits (int() of thousands of digits is refused by Python)


def _span(raw: str | None, name: str, notes: list[str] | None = None, cap: int = 1000) -> int:
    """A rowspan/colspan attribute's value (`raw`, None when absent) as a span of 1 to `cap`."""
    if raw is None:
        return 1
    raw = (raw or "1").strip()
    m = _DIGITS.match(raw)
    if m:
        digits = m.group().lstrip("0")
        value = int(digits or "0") if len(digits) <= 9 else _HUGE
    else:
        value = 1
    span = max(1, min(value, cap))
    if notes is not None and (not m or m.group() != raw or span != value):
        # a malformed span shifts the cells after it: say so, the figures may be misread
        notes.append(f'{name}="{raw[:20]}" read as {span}')
    return span


def _own_rows(table) -> list:
    """<tr> elements of this table, not of tables nested in its cells."""
    if next(table.iterdescendants("table"), None) is None:
        return list(table.iter("tr"))  # no nested tables: every row is this table's
    return [tr for tr in table.iter("tr") if _nearest_table(tr) is table]


def _nearest_table(node):
    parent = node.getparent()
    while parent is not None and parent.tag != "table":
        parent = parent.getparent()
    return parent


def table_grid(table, notes: list[str] | None = None, limits: TableLimits | None = None) -> list[list[str]]:
    """The grid of one lxml <table> element: a list of rows of equal length.
    Malformed row/col spans are reported in `notes` when a list is given; spans are clamped
    (TableLimits) and a grid over max_cells or max_chars is cut before its first row that
    would pass the limit (said in `notes`), so it never holds more than the limits allow."""
    limits = limits or DEFAULT_TABLE_LIMITS
    # grid[r][c] is None where no cell has been placed; a position covered twice (spans
    # that overlap) keeps the first cell's text. A rowspan is cut at the last <tr>: the rows
    # it names below that are no rows of the table (and could only repeat columns of the
    # rows it covers). A row list ends with a placed cell (it only grows to place one), so
    # the widest list is the table's width.
    grid: list[list[str | None]] = []
    with_cells: set[int] = set()  # rows whose <tr> has cells of its own
    own_rows = _own_rows(table)
    n_rows = len(own_rows)
    max_cells, max_chars = limits.max_cells, limits.max_chars
    width = 0   # the widest row list: len(grid) * width bounds the cells allocated
    chars = 0   # text of the spanned cells placed, counted in each position
    try:
        for r, tr in enumerate(own_rows):
            if r == len(grid):
                if (r + 1) * width > max_cells:
                    raise GridTooLarge(_over_cells(r + 1, width, max_cells))
                grid.append([])
            row = grid[r]
            c = 0
            for cell in tr.iterchildren("td", "th"):
                while c < len(row) and row[c] is not None:
                    c += 1
                text = cell_text(cell)
                rowspan, colspan = cell.get("rowspan"), cell.get("colspan")
                if rowspan is None and colspan is None:  # most cells; row[c] is free or c is the row's end
                    if c == len(row):
                        if c == width:  # the grid widens by one column
                            width += 1
                            if len(grid) * width > max_cells:
                                raise GridTooLarge(_over_cells(len(grid), width, max_cells))
                        row.append(text)
                    else:
                        row[c] = text
                    c += 1
                    continue
                rowspan = _span(rowspan, "rowspan", notes, min(limits.max_rowspan, n_rows - r))
                colspan = _span(colspan, "colspan", notes, limits.max_colspan)
                end = c + colspan
                rows_needed, cols_needed = max(len(grid), r + rowspan), max(width, end)
                if rows_needed * cols_needed > max_cells:
                    raise GridTooLarge(_over_cells(rows_needed, cols_needed, max_cells))
                chars += len(text) * rowspan * colspan
                if chars > max_chars:
                    raise GridTooLarge(f"its text passes {max_chars:,} characters (spanned cells repeated)")
                width = cols_needed
                while len(grid) < r + rowspan:
                    grid.append([])
                for spanned in grid[r:r + rowspan]:
                    if len(spanned) < end:
                        spanned.extend([None] * (end - len(spanned)))
                    for at in range(c, end):
                        if spanned[at] is None:
                            spanned[at] = text
                c = end
            if c:  # a cell was placed
                with_cells.add(r)
    except GridTooLarge as exc:
        # keep the rows before the one that passed the limit (the rows below hold no cells
        # of the kept rows' own, only the cut rows' spans)
        kept = r
        if notes is not None:
            notes.append(f"grid cut to its first {kept} of {n_rows} rows: {exc}")
        del grid[kept:]
        with_cells = {row for row in with_cells if row < kept}
        n_rows = kept
    n_cols = max(map(len, grid), default=0)
    if not n_cols:
        return []
    rows = [[text or "" for text in row] + [""] * (n_cols - len(row)) for row in grid[:n_rows]]
    return _drop_empty_rows(rows, with_cells)


def _over_cells(rows: int, cols: int, limit: int) -> str:
    return f"{rows} rows x {cols} columns pass {limit:,} cells"


def check_merged_grid(rows: int, cols: int, chars: int, limits: TableLimits) -> None:
    """GridTooLarge when a grid built cell by cell reaches `rows` x `cols` past max_cells, or its text
    (`chars`, merged cells counted in each position they cover) past max_chars: the Word readers'
    bounds (this module's reader checks its own as it places rowspans)."""
    if rows * cols > limits.max_cells:
        raise GridTooLarge(_over_cells(rows, cols, limits.max_cells))
    if chars > limits.max_chars:
        raise GridTooLarge(f"its text passes {limits.max_chars:,} characters (merged cells repeated)")


def _drop_empty_rows(rows: list[list[str]], with_cells: set[int]) -> list[list[str]]:
    """Trailing rows with no text and no cells of their own (an empty <tr>, or a row that
    exists only because a rowspan overran the table's end) are dropped. A row of blank
    cells is kept: in a stated table it is the report's row of zeros."""
    while rows and not any(rows[-1]) and len(rows) - 1 not in with_cells:
        rows.pop()
    return rows if any(any(row) for row in rows) else []


def html_table_grids(root, limits: TableLimits | None = None) -> list[list[list[str]]]:
    """Grids of every <table> under an lxml root, in document order (nested ones included)."""
    return [grid for grid in (table_grid(t, limits=limits) for t in root.iter("table")) if grid]


def parse_html_tables(markup: str, limits: TableLimits | None = None) -> list[list[list[str]]]:
    """Convenience: the grids of every table in an HTML string."""
    root = lxml_html.fromstring(markup)
    return html_table_grids(root, limits)
