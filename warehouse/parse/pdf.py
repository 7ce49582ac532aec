"""PDF reader: text and ruled tables of each page, bounded by DocumentLimits before each
step that grows faster than its input."""
from __future__ import annotations

import bisect
import io
import re

from warehouse.parse.documents import (DEFAULT_LIMITS, Document, DocumentLimits, DocumentTooLarge, Table,
                                       TableBudget, UnsupportedDocument, fields_from_text, first_title_line,
                                       strip_page_markers)
from warehouse.parse.html_tables import GridTooLarge, TableLimits

_PDF_TABLE_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}


def load_pdf(data: bytes, limits: DocumentLimits = DEFAULT_LIMITS) -> Document:
    import pdfplumber

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfminer raises many types for broken/encrypted files
        raise UnsupportedDocument(f"PDF cannot be read: {_describe_pdf_error(exc)}") from exc
    texts, tables, notes = [], [], []
    budget = TableBudget(limits, notes)
    try:
        declared = _pdf_declared_pages(pdf)
        if declared is not None and declared > limits.max_pdf_pages:
            raise DocumentTooLarge(f"PDF has {declared:,} pages (limit {limits.max_pdf_pages:,})")
        for number, page in enumerate(_pdf_pages(pdf), start=1):
            if number > limits.max_pdf_pages:  # the page tree holds more pages than its count says
                raise DocumentTooLarge(f"PDF has more than {limits.max_pdf_pages:,} pages (limit {limits.max_pdf_pages:,};"
                                       f" its page count says {'nothing' if declared is None else declared})")
            try:
                content = _pdf_page_content_bytes(page.page_obj)
                if content > limits.max_pdf_page_content_bytes:
                    notes.append(f"page {number}: {content:,} bytes of drawing operators"
                                 f" (limit {limits.max_pdf_page_content_bytes:,}): page not read")
                    continue
                texts.append(page.extract_text() or "")
                for grid in _pdf_page_grids(page, number, limits, notes):
                    if budget.admit(grid):
                        tables.append(Table(index=len(tables) + 1, rows=grid, page=number))
            finally:
                page.close()  # a page's objects are dropped once it is read
    except UnsupportedDocument:
        raise
    except Exception as exc:
        raise UnsupportedDocument(f"PDF cannot be read: {_describe_pdf_error(exc)}") from exc
    finally:
        pdf.flush_cache()  # not pdf.close(): that would build every page of the page tree
    text = strip_page_markers("\n".join(texts))
    if not text.strip():
        skipped = [note for note in notes if note.endswith("page not read")]
        raise (DocumentTooLarge(f"PDF has no page within the limits: {skipped[0]}") if skipped
               else UnsupportedDocument("PDF has no text layer (scanned images or empty)"))
    table_text = "\n\n".join(t.as_text() for t in tables)
    doc = Document(kind="pdf", text=text + ("\n\n" + table_text if table_text else ""), tables=tables, notes=notes)
    doc.title = first_title_line(text)
    doc.meta = fields_from_text(text)
    return doc


def _pdf_declared_pages(pdf) -> int | None:
    """The page count the document's catalog states (/Pages /Count): read without any page."""
    from pdfminer.pdftypes import resolve1

    try:
        count = resolve1(resolve1(pdf.doc.catalog.get("Pages")).get("Count"))
    except Exception:  # no page tree, or a broken one: pdfminer finds the pages another way
        return None
    return count if isinstance(count, int) else None


def _pdf_pages(pdf):
    """pdfplumber's pages one at a time, as `pdf.pages` builds them all at once (a Page per
    leaf of the page tree before the first is read)."""
    from pdfminer.pdfpage import PDFPage
    from pdfplumber.page import Page

    doctop = 0
    for number, page_obj in enumerate(PDFPage.create_pages(pdf.doc), start=1):
        page = Page(pdf, page_obj, page_number=number, initial_doctop=doctop)
        doctop += page.height
        yield page


def _pdf_page_content_bytes(page_obj) -> int:
    """Decoded size of what reading the page interprets: its content streams and the form
    XObjects of its resources (pdfminer keeps each stream's decoded data, so reading them
    here costs the page's reading nothing more)."""
    from pdfminer.pdftypes import PDFStream, resolve1

    size = 0
    for stream in page_obj.contents:
        stream = resolve1(stream)
        if isinstance(stream, PDFStream):
            size += len(stream.get_data())
    resources = page_obj.resources if isinstance(page_obj.resources, dict) else {}
    xobjects = resolve1(resources.get("XObject"))
    for xobject in (xobjects.values() if isinstance(xobjects, dict) else ()):
        xobject = resolve1(xobject)
        if isinstance(xobject, PDFStream) and getattr(resolve1(xobject.get("Subtype")), "name", None) == "Form":
            size += len(xobject.get_data())
    return size


def _pdf_page_grids(page, number: int, limits: DocumentLimits, notes: list[str]) -> list[list[list[str]]]:
    """Grids of the ruled tables of a page, by pdfplumber's table finder (page.find_tables),
    checked against DocumentLimits before each step that grows faster than its input: a page
    over a limit gives no tables and a note (its text is read)."""
    from pdfplumber.table import (TableFinder, TableSettings, cells_to_tables, edges_to_intersections,
                                  intersections_to_cells)

    objects = page.objects
    rulings = sum(len(objects.get(kind, ())) for kind in ("line", "rect", "curve"))
    count = rulings + len(objects.get("char", ()))
    if count > limits.max_pdf_page_objects:
        notes.append(f"page {number}: {count:,} chars, lines, rects and curves (limit {limits.max_pdf_page_objects:,}):"
                     " tables not looked for")
        return []
    if rulings > limits.max_pdf_page_rulings:
        notes.append(f"page {number}: {rulings:,} lines, rects and curves (limit {limits.max_pdf_page_rulings:,}):"
                     " tables not looked for")
        return []
    # TableFinder(page, settings) in steps, each bounded before it runs (its __init__ runs them all)
    finder = TableFinder.__new__(TableFinder)
    finder.page, finder.settings = page, TableSettings.resolve(_PDF_TABLE_SETTINGS)
    settings = finder.settings
    edges = finder.get_edges()
    horizontal = sum(1 for edge in edges if edge["orientation"] == "h")
    pairs = horizontal * (len(edges) - horizontal)
    if pairs > limits.max_pdf_page_edge_pairs:
        notes.append(f"page {number}: {horizontal:,} x {len(edges) - horizontal:,} ruling edges"
                     f" (limit {limits.max_pdf_page_edge_pairs:,} pairs): tables not looked for")
        return []
    crossings = edges_to_intersections(edges, settings.intersection_x_tolerance, settings.intersection_y_tolerance)
    if len(crossings) > limits.max_pdf_page_crossings:
        notes.append(f"page {number}: {len(crossings):,} ruling edge crossings"
                     f" (limit {limits.max_pdf_page_crossings:,}): tables not looked for")
        return []
    grids = []
    texts = None
    for cells in cells_to_tables(intersections_to_cells(crossings)):
        texts = texts or _PdfCellTexts(page)
        tests = sum(texts.tests(cell) for cell in cells)
        try:
            if tests > limits.max_pdf_table_char_tests:
                raise GridTooLarge(f"reading its cells would test {tests:,} characters"
                                   f" (limit {limits.max_pdf_table_char_tests:,})")
            grid = pdf_table_grid(cells, texts, limits.tables)
        except GridTooLarge as exc:
            notes.append(f"page {number}: a table not read: {exc}")
            continue
        if grid and len(grid[0]) > 1:  # a one-column "table" is a frame drawn around prose
            grids.append(grid)
    return grids


def _describe_pdf_error(exc: Exception) -> str:
    """pdfplumber wraps pdfminer's errors, some of which have no message (an encrypted
    file raises PdfminerException(PDFPasswordIncorrect())): name the wrapped error."""
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc.__cause__
    name = type(inner).__name__ if inner is not None else type(exc).__name__
    if "Password" in name or "Encrypt" in name:
        return f"the PDF is encrypted and needs a password ({name})"
    return f"{type(exc).__name__}: {exc}" if str(exc) else f"{type(exc).__name__}: {name}"


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


def pdf_table_grid(cells: list[tuple], text_of, limits: TableLimits | None = None) -> list[list[str]]:
    """A grid from the cell boxes pdfplumber found: a merged cell covers several
    column/row bands and its text is repeated in each of them. `text_of(box)` is the text
    inside a box (_PdfCellTexts). Raises GridTooLarge past `limits` (TableLimits), before
    the grid is allocated or a cell's text is read."""
    if not cells:
        return []
    limits = limits or TableLimits()
    xs = _snap([c[0] for c in cells] + [c[2] for c in cells])
    ys = _snap([c[1] for c in cells] + [c[3] for c in cells])
    if (len(xs) - 1) * (len(ys) - 1) > limits.max_cells:
        raise GridTooLarge(f"{len(ys) - 1} rows x {len(xs) - 1} columns pass {limits.max_cells:,} cells")
    placed = [(cell, _position(ys, cell[1]), _position(ys, cell[3]), _position(xs, cell[0]), _position(xs, cell[2]))
              for cell in cells]
    # cells of a table tile its grid; overlapping boxes could cover it many times over
    covered = sum((last - first) * (end - start) for _, first, last, start, end in placed)
    if covered > limits.max_cells:
        raise GridTooLarge(f"its {len(cells):,} cells cover {covered:,} grid positions (limit {limits.max_cells:,})")
    grid = [["" for _ in range(len(xs) - 1)] for _ in range(len(ys) - 1)]
    own_rows: set[int] = set()  # row bands that some cell occupies alone
    chars = 0
    for box, first, last, start, end in placed:
        text = text_of(box) or ""
        text = re.sub(r"\s+", " ", text.replace("\n", "")).strip()
        chars += len(text) * (last - first) * (end - start)
        if chars > limits.max_chars:
            raise GridTooLarge(f"its text passes {limits.max_chars:,} characters (spanned cells repeated)")
        if last - first == 1:
            own_rows.add(first)
        for r in range(first, last):
            for c in range(start, end):
                grid[r][c] = text
    # A row of blank cells is a row of the table (its zeros); an empty band that only
    # exists because two merged cells' edges are slightly misaligned is not.
    rows = [row for r, row in enumerate(grid) if any(row) or r in own_rows]
    return rows if any(any(row) for row in rows) else []


class _PdfCellTexts:
    """Texts of cell boxes on a page, each as page.within_bbox(box).extract_text() reads it,
    but testing only the characters whose top lies in the box's height (found by bisection
    among the page's characters sorted by top), not every object of the page for every cell."""

    def __init__(self, page):
        self.page = page
        chars = page.chars
        self.chars = chars
        self.order = sorted(range(len(chars)), key=lambda i: chars[i]["top"])
        self.tops = [chars[i]["top"] for i in self.order]
        self.bands: dict[tuple[float, float], object] = {}

    def tests(self, box: tuple) -> int:
        """How many characters reading `box` tests."""
        return bisect.bisect_right(self.tops, box[3]) - bisect.bisect_left(self.tops, box[1])

    def __call__(self, box: tuple) -> str:
        key = (box[1], box[3])
        band = self.bands.get(key)
        if band is None:  # the characters that may lie in boxes of this height, in page order
            lo, hi = bisect.bisect_left(self.tops, box[1]), bisect.bisect_right(self.tops, box[3])
            band = self.page.filter(bool)
            band._objects = {"char": [self.chars[i] for i in sorted(self.order[lo:hi])]}
            self.bands[key] = band
        return band.within_bbox(box, relative=False, strict=False).extract_text()
