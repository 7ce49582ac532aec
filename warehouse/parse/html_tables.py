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


def _span(raw: str | None, name: str, notes: list[str] | None = None) -> int:
    """A rowspan/colspan attribute's value (`raw`, None when absent) as a span."""
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
    # grid[r][c] is None where no cell has been placed; a position covered twice (spans
    # that overlap) keeps the first cell's text. Rows spanned below the last <tr> are
    # built too: they widen the table, but are not rows of it. A row list ends with a
    # placed cell (it only grows to place one), so the widest list is the table's width.
    grid: list[list[str | None]] = []
    with_cells: set[int] = set()  # rows whose <tr> has cells of its own
    own_rows = _own_rows(table)
    for r, tr in enumerate(own_rows):
        if r == len(grid):
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
                    row.append(text)
                else:
                    row[c] = text
                c += 1
                continue
            rowspan, colspan = _span(rowspan, "rowspan", notes), _span(colspan, "colspan", notes)
            while len(grid) < r + rowspan:
                grid.append([])
            for spanned in grid[r:r + rowspan]:
                if len(spanned) < c + colspan:
                    spanned.extend([None] * (c + colspan - len(spanned)))
                for at in range(c, c + colspan):
                    if spanned[at] is None:
                        spanned[at] = text
            c += colspan
        if c:  # a cell was placed
            with_cells.add(r)
    n_cols = max(map(len, grid), default=0)
    if not n_cols:
        return []
    rows = [[text or "" for text in row] + [""] * (n_cols - len(row)) for row in grid[:len(own_rows)]]
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
