"""Read an HTML <table> into a rectangular grid with row/col spans expanded.

A spanned cell repeats its text in every grid position it covers, so a group
label (rowspan 20) is present on each of its rows and a header that spans
three columns sits above each of them. Nested tables are read as their own
tables; their text is not folded into the outer cell (unless the nested table is a
single cell, a mere frame around the text).
"""
from __future__ import annotations

import re

from lxml import html as lxml_html

_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u3000\u200b]+")
MAX_SPAN = 200  # malformed spans (rowspan="9999") are clipped to this


def cell_text(cell) -> str:
    """Visible text of a cell: Word-pasted spans joined, <p>/<br> as one space, &nbsp; folded."""
    if len(cell):
        parts: list[str] = []
        _collect_text(cell, parts, top=cell)
        text = "".join(parts)
    else:  # most cells: plain text, no markup inside
        text = cell.text or ""
    text = _SPACES.sub(" ", text.replace("\n", " "))
    return text.strip()


def _collect_text(node, parts: list[str], top) -> None:
    tag = node.tag if isinstance(node.tag, str) else ""
    # a nested table is its own table, except a one-cell table: that is a frame around the
    # cell's text (editor markup), and its text is what the cell shows
    if tag in ("script", "style") or (tag == "table" and node is not top and not _is_frame(node)):
        if node.tail and node is not top:
            parts.append(node.tail)
        return
    if tag in _BLOCK_TAGS and node is not top:
        parts.append(" ")
    if node.text and tag:
        parts.append(node.text)
    for child in node:
        _collect_text(child, parts, top)
    if tag in _BLOCK_TAGS and node is not top:
        parts.append(" ")
    if node.tail and node is not top:
        parts.append(node.tail)


def _is_frame(table) -> bool:
    cells = 0
    for _ in table.iter("td", "th"):
        cells += 1
        if cells > 1:
            return False
    return True


_DIGITS = re.compile(r"\d+")


def _span(cell, name: str, notes: list[str] | None = None) -> int:
    raw = cell.get(name)
    if raw is None:
        return 1
    raw = (raw or "1").strip()
    m = _DIGITS.match(raw)
    value = int(m.group()) if m else 1
    span = max(1, min(value, MAX_SPAN))
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


def table_grid(table, notes: list[str] | None = None) -> list[list[str]]:
    """The grid of one lxml <table> element: a list of rows of equal length.
    Malformed row/col spans are reported in `notes` when a list is given."""
    grid: dict[tuple[int, int], str] = {}
    n_rows = 0
    with_cells: set[int] = set()  # rows whose <tr> has cells of its own
    for r, tr in enumerate(_own_rows(table)):
        c = 0
        for cell in tr.iterchildren("td", "th"):
            with_cells.add(r)
            while (r, c) in grid:
                c += 1
            text = cell_text(cell)
            rowspan, colspan = _span(cell, "rowspan", notes), _span(cell, "colspan", notes)
            if rowspan == colspan == 1:
                grid.setdefault((r, c), text)
            else:
                for dr in range(rowspan):
                    for dc in range(colspan):
                        grid.setdefault((r + dr, c + dc), text)
            c += colspan
        n_rows = r + 1
    if not grid:
        return []
    n_cols = max(c for _, c in grid) + 1
    rows = [[grid.get((r, c), "") for c in range(n_cols)] for r in range(n_rows)]
    return _drop_empty_rows(rows, with_cells)


def _drop_empty_rows(rows: list[list[str]], with_cells: set[int]) -> list[list[str]]:
    """Trailing rows with no text and no cells of their own (an empty <tr>, or a row that
    exists only because a rowspan overran the table's end) are dropped. A row of blank
    cells is kept: in a stated table it is the report's row of zeros."""
    while rows and not any(rows[-1]) and len(rows) - 1 not in with_cells:
        rows.pop()
    return rows if any(any(row) for row in rows) else []


def html_table_grids(root) -> list[list[list[str]]]:
    """Grids of every <table> under an lxml root, in document order (nested ones included)."""
    return [grid for grid in (table_grid(t) for t in root.iter("table")) if grid]


def parse_html_tables(markup: str) -> list[list[list[str]]]:
    """Convenience: the grids of every table in an HTML string."""
    root = lxml_html.fromstring(markup)
    return html_table_grids(root)
