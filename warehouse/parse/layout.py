"""Page layout, format-independent: positioned words and ruling segments → reading-order text
lines and ruled table grids. Pure Python, no PDF or image library: the PDF reader
(warehouse.parse.pdf, words and rulings from pdfium) and the OCR reader (words from the OCR
engine, rulings from the scanned lines) both read their pages through it.

Coordinates are PDF points (1/72 inch) with the origin at the page's top-left corner: `top` grows
downwards. A caller with pixels converts them (points = pixels * 72 / dpi), or passes its own
`tolerance`; the tolerances are pdfplumber's defaults, so that the text and the cells come out as
pdfplumber read them before (its extract_text, and its table finder's "lines" strategy: snap
and join the ruling edges, their crossings, the smallest cells between crossings, the cells that
share corners as one table).

Every step that grows faster than its input is bounded before it runs (DocumentLimits'
max_pdf_page_* and TableLimits); a page over a bound gives no tables and a note, never a
traceback.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from operator import attrgetter

from warehouse.parse.html_tables import GridTooLarge, TableLimits

TOLERANCE = 3.0        # pdfplumber's x/y text tolerances, edge snap/join and crossing tolerances
EDGE_MIN_LENGTH = 3.0  # merged edges shorter than this are dropped (pdfplumber's edge_min_length)
_PREFILTER_LENGTH = 1.0  # edges shorter than this are not merged at all (edge_min_length_prefilter)


@dataclass(frozen=True, init=False)
class Word:
    """A positioned piece of text: a PDF character, or an OCR word. `confidence` (0-1) is the
    OCR engine's, None for text read from a text layer."""
    x0: float
    top: float
    x1: float
    bottom: float
    text: str
    confidence: float | None = None

    def __init__(self, x0: float, top: float, x1: float, bottom: float, text: str,
                 confidence: float | None = None):
        # stores into the instance dict instead of a frozen dataclass's object.__setattr__ per
        # field (3x faster): a page has thousands of characters
        fields = self.__dict__
        fields["x0"], fields["top"], fields["x1"], fields["bottom"] = x0, top, x1, bottom
        fields["text"], fields["confidence"] = text, confidence


@dataclass(frozen=True, init=False)
class Ruling:
    """One drawn horizontal or vertical segment, given by its extent: a line (zero width or
    height), or a thin filled rectangle (at most `tolerance` thick) read as the segment along its
    middle. A larger rectangle is read as its four sides (as pdfplumber reads a drawn rect)."""
    x0: float
    top: float
    x1: float
    bottom: float

    def __init__(self, x0: float, top: float, x1: float, bottom: float):
        fields = self.__dict__  # as Word: a page may draw thousands
        fields["x0"], fields["top"], fields["x1"], fields["bottom"] = x0, top, x1, bottom


@dataclass
class PositionedGrid:
    rows: list[list[str]]                 # spanned cells repeated, as pdf_table_grid gives them
    boxes: list[list[tuple[float, float, float, float] | None]] = field(default_factory=list)  # each cell's box
    confidence: list[list[float | None]] = field(default_factory=list)  # lowest word confidence (None: not OCR)


# ------------------------------------------------------------------------------------ text


def _cluster(values: list[float], tolerance: float) -> dict[float, int]:
    """pdfplumber's cluster_list: sorted distinct values, a new cluster where a value passes the
    previous one by more than `tolerance` (chained); value → cluster number."""
    out: dict[float, int] = {}
    last, number = None, -1
    for v in sorted(set(values)):
        if last is None or v > last + tolerance:
            number += 1
        out[v] = number
        last = v
    return out


def _group(items: list, key, tolerance: float) -> list[list]:
    """Items clustered by `key` (chained within `tolerance`), clusters in ascending order, items
    in their given order within a cluster (pdfplumber's cluster_objects)."""
    if not items:
        return []
    keys = [key(item) for item in items]
    number = _cluster(keys, tolerance)
    groups: list[list] = [[] for _ in range(max(number.values()) + 1)]
    for item, k in zip(items, keys):
        groups[number[k]].append(item)
    return [g for g in groups if g]


def _numbers(keys: list[float], tolerance: float) -> tuple[dict[float, int], int]:
    """The cluster number of each key (pdfplumber's cluster_list: sorted distinct values, a new
    cluster where a value passes the previous one by more than `tolerance`), and how many."""
    number: dict[float, int] = {}
    n, last = 0, None
    for v in sorted(set(keys)):
        if last is not None and v > last + tolerance:
            n += 1
        number[v] = n
        last = v
    return number, n + 1


_X_ORDER = attrgetter("x0", "x1")


def text_lines(words: list[Word], tolerance: float = TOLERANCE) -> list[list[str]]:
    """The lines of `words` top to bottom, each the list of its words left to right: words are
    clustered into lines by their tops, joined into one word where the gap between them is at
    most `tolerance` (characters of one word), split at blank ones; as pdfplumber's
    extract_text (layout off) reads characters."""
    if not words:
        return []
    tops = [w.top for w in words]
    if max(tops) - min(tops) <= tolerance:  # one line (a cell's usual case): no clustering
        number, n = {}, 1
    else:
        number, n = _numbers(tops, tolerance)
    if n == 1:
        lines = [list(words)]
    else:
        lines = [[] for _ in range(n)]
        for w in words:
            lines[number[w.top]].append(w)
    merged: list[tuple[float, str]] = []  # (top, text) of each joined word, in line order
    for line in lines:
        line.sort(key=_X_ORDER)
        texts: list[str] = []
        prev = None
        top = 0.0
        for w in line:
            text = w.text
            if not text or text.isspace():
                if texts:
                    merged.append((top, "".join(texts)))
                    texts = []
                prev = None
                continue
            if prev is not None and (w.x0 < prev.x0 or w.x0 > prev.x1 + tolerance or abs(w.top - prev.top) > tolerance):
                merged.append((top, "".join(texts)))
                texts = []
                prev = None
            if prev is None or w.top < top:
                top = w.top
            texts.append(text)
            prev = w
        if texts:
            merged.append((top, "".join(texts)))
    if not merged:
        return []
    if n == 1:  # the joined words' tops lie within the characters' range
        return [[text for _, text in merged]]
    number, n = _numbers([top for top, _ in merged], tolerance)
    if n == 1:
        return [[text for _, text in merged]]
    out: list[list[str]] = [[] for _ in range(n)]
    for top, text in merged:
        out[number[top]].append(text)
    return out


def page_text(words: list[Word], tolerance: float = TOLERANCE) -> str:
    """Reading-order text of a page from its words' positions: one line of text per line of
    words, words separated by a space (as pdfplumber's page.extract_text())."""
    return "\n".join(" ".join(line) for line in text_lines(words, tolerance))


# --------------------------------------------------------------------------------- rulings


def _edges(rulings: list[Ruling], tolerance: float) -> tuple[list[list[float]], list[list[float]]]:
    """Horizontal edges [x0, x1, y] and vertical edges [top, bottom, x] of the rulings: a thin
    ruling is the segment along its middle, a larger one its four sides."""
    horizontal: list[list[float]] = []
    vertical: list[list[float]] = []
    for r in rulings:
        x0, x1 = min(r.x0, r.x1), max(r.x0, r.x1)
        top, bottom = min(r.top, r.bottom), max(r.top, r.bottom)
        width, height = x1 - x0, bottom - top
        if height <= tolerance and width >= height:
            horizontal.append([x0, x1, (top + bottom) / 2])
        elif width <= tolerance:
            vertical.append([top, bottom, (x0 + x1) / 2])
        else:
            horizontal += ([x0, x1, top], [x0, x1, bottom])
            vertical += ([top, bottom, x0], [top, bottom, x1])
    return ([e for e in horizontal if e[1] - e[0] >= _PREFILTER_LENGTH],
            [e for e in vertical if e[1] - e[0] >= _PREFILTER_LENGTH])


def _merge(edges: list[list[float]], tolerance: float) -> list[tuple[float, float, float]]:
    """pdfplumber's merge_edges for one orientation: snap edges whose position (index 2) is
    within `tolerance` (chained) to their mean, then join the edges of one position that touch
    or overlap (within `tolerance`), then drop those shorter than EDGE_MIN_LENGTH."""
    merged: list[tuple[float, float, float]] = []
    for group in _group(edges, lambda e: e[2], tolerance):
        at = sum(e[2] for e in group) / len(group)
        group.sort(key=lambda e: e[0])
        start, end = group[0][0], group[0][1]
        for e in group[1:]:
            if e[0] <= end + tolerance:
                end = max(end, e[1])
            else:
                merged.append((start, end, at))
                start, end = e[0], e[1]
        merged.append((start, end, at))
    return [e for e in merged if e[1] - e[0] >= EDGE_MIN_LENGTH]


def _crossings(horizontal, vertical, tolerance: float) -> dict[tuple[float, float], tuple[set, set]]:
    """Points where a vertical edge meets a horizontal one (within `tolerance`), each with the
    vertical and horizontal edges through it (pdfplumber's edges_to_intersections)."""
    points: dict[tuple[float, float], tuple[set, set]] = {}
    by_y = sorted(range(len(horizontal)), key=lambda i: horizontal[i][2])
    ys = [horizontal[i][2] for i in by_y]
    for v, (top, bottom, x) in enumerate(vertical):
        for i in by_y[bisect.bisect_left(ys, top - tolerance):bisect.bisect_right(ys, bottom + tolerance)]:
            x0, x1, y = horizontal[i]
            if x0 - tolerance <= x <= x1 + tolerance:
                entry = points.get((x, y))
                if entry is None:
                    entry = points[(x, y)] = (set(), set())
                entry[0].add(v)
                entry[1].add(i)
    return points


def _cells(points: dict[tuple[float, float], tuple[set, set]]) -> list[tuple[float, float, float, float]]:
    """The smallest rectangle each crossing is the top-left corner of, its four sides drawn
    (pdfplumber's intersections_to_cells)."""
    by_x: dict[float, list[float]] = {}
    by_y: dict[float, list[float]] = {}
    ordered = sorted(points)
    for x, y in ordered:
        by_x.setdefault(x, []).append(y)  # ascending y: the points are sorted
    for x, y in sorted(points, key=lambda p: (p[1], p[0])):
        by_y.setdefault(y, []).append(x)
    cells = []
    for x, y in ordered:
        vs, hs = points[(x, y)]
        column, row = by_x[x], by_y[y]
        right: list[tuple[float, tuple[set, set]]] | None = None
        found = None
        for b in column[bisect.bisect_right(column, y):]:
            below = points[(x, b)]
            if vs.isdisjoint(below[0]):
                continue
            if right is None:  # the points to the right joined to this one by a horizontal edge
                right = [(r, points[(r, y)]) for r in row[bisect.bisect_right(row, x):]]
                right = [(r, p) for r, p in right if not hs.isdisjoint(p[1])]
            for r, beside in right:
                corner = points.get((r, b))
                if corner is not None and not corner[0].isdisjoint(beside[0]) and not corner[1].isdisjoint(below[1]):
                    found = (x, y, r, b)
                    break
            if found:
                break
        if found:
            cells.append(found)
    return cells


def _tables(cells: list[tuple]) -> list[list[tuple]]:
    """Cells grouped into tables by shared corners, top-to-bottom then left-to-right, tables of
    one cell dropped (pdfplumber's cells_to_tables, with a corner index instead of rescans)."""
    corners_of = lambda c: ((c[0], c[1]), (c[0], c[3]), (c[2], c[1]), (c[2], c[3]))
    at: dict[tuple, list[int]] = {}
    for i, cell in enumerate(cells):
        for corner in corners_of(cell):
            at.setdefault(corner, []).append(i)
    seen = [False] * len(cells)
    tables = []
    for first in range(len(cells)):
        if seen[first]:
            continue
        seen[first] = True
        group, stack = [], [first]
        while stack:
            i = stack.pop()
            group.append(i)
            for corner in corners_of(cells[i]):
                for j in at[corner]:
                    if not seen[j]:
                        seen[j] = True
                        stack.append(j)
        tables.append([cells[i] for i in sorted(group)])
    tables.sort(key=lambda t: min((c[1], c[0]) for c in t))
    return [t for t in tables if len(t) > 1]


# ----------------------------------------------------------------------------------- grids


def _snap(values: list[float], tolerance: float = 2.0) -> list[float]:
    """Cluster nearly equal coordinates (drawn lines are rarely exactly aligned)."""
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > tolerance:
            out.append(v)
    return out


def _position(edges: list[float], value: float) -> int:
    """Index of the edge nearest `value` (the first of two as near) in ascending `edges`."""
    at = bisect.bisect_left(edges, value)
    if at == len(edges) or (at and abs(edges[at - 1] - value) <= abs(edges[at] - value)):
        at -= 1
    while at and abs(edges[at - 1] - value) == abs(edges[at] - value):  # as near once rounded
        at -= 1
    return at


def cells_grid(cells: list[tuple], text_of, limits: TableLimits | None = None) -> PositionedGrid | None:
    """A grid from cell boxes: a merged cell covers several column/row bands and its text is
    repeated in each of them. `text_of(box)` gives the text inside a box, or (text, lowest
    confidence). Raises GridTooLarge past `limits`, before the grid is allocated or a cell's text
    is read. None when no cell has text."""
    if not cells:
        return None
    limits = limits or TableLimits()
    xs = _snap([c[0] for c in cells] + [c[2] for c in cells])
    ys = _snap([c[1] for c in cells] + [c[3] for c in cells])
    if (len(xs) - 1) * (len(ys) - 1) > limits.max_cells:
        raise GridTooLarge(f"{len(ys) - 1} rows x {len(xs) - 1} columns pass {limits.max_cells:,} cells")
    at_x = {v: _position(xs, v) for v in {c[0] for c in cells} | {c[2] for c in cells}}
    at_y = {v: _position(ys, v) for v in {c[1] for c in cells} | {c[3] for c in cells}}
    placed = [(cell, at_y[cell[1]], at_y[cell[3]], at_x[cell[0]], at_x[cell[2]]) for cell in cells]
    # cells of a table tile its grid; overlapping boxes could cover it many times over
    covered = sum((last - first) * (end - start) for _, first, last, start, end in placed)
    if covered > limits.max_cells:
        raise GridTooLarge(f"its {len(cells):,} cells cover {covered:,} grid positions (limit {limits.max_cells:,})")
    width, height = len(xs) - 1, len(ys) - 1
    grid = [["" for _ in range(width)] for _ in range(height)]
    boxes: list[list] = [[None] * width for _ in range(height)]
    confidence: list[list] = [[None] * width for _ in range(height)]
    own_rows: set[int] = set()  # row bands that some cell occupies alone
    chars = 0
    for box, first, last, start, end in placed:
        got = text_of(box)
        text, conf = got if isinstance(got, tuple) else (got, None)
        text = re.sub(r"\s+", " ", (text or "").replace("\n", "")).strip()
        chars += len(text) * (last - first) * (end - start)
        if chars > limits.max_chars:
            raise GridTooLarge(f"its text passes {limits.max_chars:,} characters (spanned cells repeated)")
        if last - first == 1:
            own_rows.add(first)
        for r in range(first, last):
            row, row_boxes, row_conf = grid[r], boxes[r], confidence[r]
            for c in range(start, end):
                row[c], row_boxes[c], row_conf[c] = text, box, conf
    # A row of blank cells is a row of the table (its zeros); an empty band that only
    # exists because two merged cells' edges are slightly misaligned is not.
    keep = [r for r, row in enumerate(grid) if any(row) or r in own_rows]
    if not any(any(grid[r]) for r in keep):
        return None
    return PositionedGrid(rows=[grid[r] for r in keep], boxes=[boxes[r] for r in keep],
                          confidence=[confidence[r] for r in keep])


class CellTexts:
    """Texts of cell boxes among a page's words. A word of a text layer is in a box when it lies
    wholly inside it (as pdfplumber's within_bbox: a character that straddles a ruling belongs to
    no cell); an OCR word (one with a confidence) when its centre does, as OCR boxes overlap the
    rulings they sit against. Each box tests only the words whose centre lies in its height
    (bisection among the words sorted by centre), not every word of the page; the boxes of one
    row band share that selection, sorted by the centres' x for a bisection per box."""

    def __init__(self, words: list[Word], tolerance: float = TOLERANCE):
        self.tolerance = tolerance
        self.words = sorted(words, key=lambda w: (w.top + w.bottom) / 2)
        self.middles = [(w.top + w.bottom) / 2 for w in self.words]
        self.bands: dict[tuple[float, float], tuple[list[float], list[Word]]] = {}

    def tests(self, box: tuple) -> int:
        """How many words reading `box` tests."""
        return bisect.bisect_right(self.middles, box[3]) - bisect.bisect_left(self.middles, box[1])

    def __call__(self, box: tuple) -> tuple[str, float | None]:
        x0, top, x1, bottom = box
        band = self.bands.get((top, bottom))
        if band is None:
            lo, hi = bisect.bisect_left(self.middles, top), bisect.bisect_right(self.middles, bottom)
            inside = sorted(self.words[lo:hi], key=lambda w: w.x0 + w.x1)
            band = self.bands[(top, bottom)] = ([(w.x0 + w.x1) / 2 for w in inside], inside)
        centres, words = band
        candidates = words[bisect.bisect_left(centres, x0):bisect.bisect_right(centres, x1)]
        inside = [w for w in candidates
                  if w.confidence is not None or (x0 <= w.x0 and w.x1 <= x1 and top <= w.top and w.bottom <= bottom)]
        if not inside:
            return "", None
        confidences = [w.confidence for w in inside if w.confidence is not None]
        # lines joined without a space: a cell's text wraps inside its box
        text = "".join(" ".join(line) for line in text_lines(inside, self.tolerance))
        return text, (min(confidences) if confidences else None)


def _limit(limits, name: str):
    from warehouse.parse.documents import DEFAULT_LIMITS

    return getattr(limits, name, getattr(DEFAULT_LIMITS, name))


def table_grids(words: list[Word], rulings: list[Ruling], limits, notes: list[str], *,
                page: int | None = None, tolerance: float = TOLERANCE) -> list[PositionedGrid]:
    """The ruled tables of a page: cells from the crossings of its horizontal and vertical
    rulings, each cell's text from the words inside it. `limits` is a DocumentLimits (its
    max_pdf_page_* bounds and its TableLimits) or a TableLimits (the page bounds then default).
    A page over a bound gives no tables and a note in `notes` ("page N: ..."); a table over a
    bound is skipped with a note. One-column "tables" (a frame drawn around prose) are dropped."""
    where = f"page {page}: " if page is not None else ""
    table_limits = limits if isinstance(limits, TableLimits) else getattr(limits, "tables", TableLimits())
    max_objects, max_rulings = _limit(limits, "max_pdf_page_objects"), _limit(limits, "max_pdf_page_rulings")
    if len(rulings) + len(words) > max_objects:
        notes.append(f"{where}{len(words) + len(rulings):,} chars, lines, rects and curves (limit {max_objects:,}):"
                     " tables not looked for")
        return []
    if len(rulings) > max_rulings:
        notes.append(f"{where}{len(rulings):,} lines, rects and curves (limit {max_rulings:,}): tables not looked for")
        return []
    if not rulings:
        return []
    horizontal, vertical = _edges(rulings, tolerance)
    horizontal, vertical = _merge(horizontal, tolerance), _merge(vertical, tolerance)
    pairs, max_pairs = len(horizontal) * len(vertical), _limit(limits, "max_pdf_page_edge_pairs")
    if pairs > max_pairs:
        notes.append(f"{where}{len(horizontal):,} x {len(vertical):,} ruling edges"
                     f" (limit {max_pairs:,} pairs): tables not looked for")
        return []
    points = _crossings(horizontal, vertical, tolerance)
    max_crossings = _limit(limits, "max_pdf_page_crossings")
    if len(points) > max_crossings:
        notes.append(f"{where}{len(points):,} ruling edge crossings (limit {max_crossings:,}): tables not looked for")
        return []
    grids: list[PositionedGrid] = []
    texts = None
    max_tests = _limit(limits, "max_pdf_table_char_tests")
    for cells in _tables(_cells(points)):
        texts = texts or CellTexts(words, tolerance)
        tests = sum(texts.tests(cell) for cell in cells)
        try:
            if tests > max_tests:
                raise GridTooLarge(f"reading its cells would test {tests:,} characters (limit {max_tests:,})")
            grid = cells_grid(cells, texts, table_limits)
        except GridTooLarge as exc:
            notes.append(f"{where}a table not read: {exc}")
            continue
        if grid and len(grid.rows[0]) > 1:  # a one-column "table" is a frame drawn around prose
            grids.append(grid)
    return grids
