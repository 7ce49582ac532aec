"""PDF reader: text and ruled tables of each page, bounded by DocumentLimits before each
step that grows faster than its input.

Two libraries, each where it is cheap:
- pdfminer (pure Python, interruptible) opens the file (an encrypted or broken PDF is refused
  with its reason), reads the page count the catalog declares and walks the page tree one page
  at a time, measuring each page's drawing operators before anything interprets them;
- pdfium (pypdfium2, C) reads each page that passed: its characters with their boxes and its
  painted paths, which warehouse.parse.layout turns into the page's text lines and table grids.
Pages without a text layer (or with one that holds no digit over a scanned image) go to the OCR
reader (warehouse.parse.ocr) when it is installed.
"""
from __future__ import annotations

import functools
import io
import types

from warehouse.parse.documents import (DEFAULT_LIMITS, Document, DocumentLimits, DocumentTooLarge, Table,
                                       TableBudget, UnsupportedDocument, fields_from_text, first_title_line,
                                       strip_page_markers)
from warehouse.parse.html_tables import TableLimits
from warehouse.parse.layout import (PositionedGrid, Ruling, Word, _position, cells_grid,  # noqa: F401
                                    page_text, table_grids)

__all__ = ["load_pdf", "page_words_and_rulings", "pdf_table_grid"]


def load_pdf(data: bytes, limits: DocumentLimits = DEFAULT_LIMITS) -> Document:
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser

    try:
        doc = PDFDocument(PDFParser(io.BytesIO(data)))
    except Exception as exc:  # pdfminer raises many types for broken/encrypted files
        raise UnsupportedDocument(f"PDF cannot be read: {_describe_pdf_error(exc)}") from exc
    notes: list[str] = []
    pages: dict[int, tuple[str, list[PositionedGrid]]] = {}  # page number -> (text, grids)
    image_only: list[int] = []
    pdf = None
    try:
        declared = _pdf_declared_pages(doc)
        if declared is not None and declared > limits.max_pdf_pages:
            raise DocumentTooLarge(f"PDF has {declared:,} pages (limit {limits.max_pdf_pages:,})")
        for number, page_obj in enumerate(_pdf_pages(doc), start=1):
            if number > limits.max_pdf_pages:  # the page tree holds more pages than its count says
                raise DocumentTooLarge(f"PDF has more than {limits.max_pdf_pages:,} pages (limit {limits.max_pdf_pages:,};"
                                       f" its page count says {'nothing' if declared is None else declared})")
            content = _pdf_page_content_bytes(page_obj)
            if content > limits.max_pdf_page_content_bytes:
                notes.append(f"page {number}: {content:,} bytes of drawing operators"
                             f" (limit {limits.max_pdf_page_content_bytes:,}): page not read")
                continue
            if pdf is None:
                pdf = _open_pdfium(data)
            if number > len(pdf):  # pdfminer found pages pdfium's page tree does not hold
                notes.append(f"page {number}: not in the page tree: page not read")
                continue
            words, rulings, scanned, objects = page_words_and_rulings(pdf, number - 1, limits)
            text = page_text(words)
            # a page without text that draws anything, or whose text has no digit over a scan
            # (a title layer on a scanned table): its figures are in pixels
            if (not text.strip() and objects) or (scanned >= 0.5 and not any(ch.isdigit() for ch in text)):
                image_only.append(number)
            if not text.strip():
                continue
            if rulings is None:
                notes.append(f"page {number}: {objects:,} objects drawn (chars, lines, rects and curves;"
                             f" limit {limits.max_pdf_page_objects:,}): tables not looked for")
                grids = []
            else:
                grids = table_grids(words, rulings, limits, notes, page=number)
            pages[number] = (text, grids)
    except UnsupportedDocument:
        raise
    except Exception as exc:
        raise UnsupportedDocument(f"PDF cannot be read: {_describe_pdf_error(exc)}") from exc
    finally:
        if pdf is not None:
            pdf.close()
    if image_only:
        _read_image_pages(data, image_only, pages, limits, notes)
    return _document(pages, limits, notes)


def _document(pages: dict[int, tuple[str, list[PositionedGrid]]], limits: DocumentLimits,
              notes: list[str]) -> Document:
    texts, tables = [], []
    budget = TableBudget(limits, notes)
    for number in sorted(pages):
        text, grids = pages[number]
        texts.append(text)
        for grid in grids:
            if budget.admit(grid.rows):
                ocr = any(c is not None for row in grid.confidence for c in row)
                tables.append(Table(index=len(tables) + 1, rows=grid.rows, page=number, boxes=grid.boxes or None,
                                    confidence=grid.confidence if ocr else None))
    text = strip_page_markers("\n".join(texts))
    if not text.strip():
        skipped = [note for note in notes if note.endswith("page not read")]
        raise (DocumentTooLarge(f"PDF has no page within the limits: {skipped[0]}") if skipped
               else UnsupportedDocument("PDF has no text layer (scanned images or empty)"))
    table_text = "\n\n".join(t.as_text() for t in tables)
    doc = Document(kind="pdf", text=text + ("\n\n" + table_text if table_text else ""), tables=tables, notes=notes,
                   grids_text_at=len(text) + 2 if table_text else None)
    doc.title = first_title_line(text)
    doc.meta = fields_from_text(text)
    return doc


def _read_image_pages(data: bytes, numbers: list[int], pages: dict, limits: DocumentLimits,
                      notes: list[str]) -> None:
    """The text and tables of pages without a usable text layer, by OCR when its module and
    engine are installed; otherwise a note per page (a page whose text layer holds words but no
    digits keeps that text). A PDF of image-only pages without OCR ends as "no text layer"."""
    try:
        from warehouse.parse.ocr import OcrUnavailable, ocr_pdf_pages
    except ImportError:
        notes.extend(f"image-only page {number}: OCR not available" for number in numbers)
        return
    try:
        read = ocr_pdf_pages(data, numbers, limits, notes)
    except (ImportError, OcrUnavailable) as exc:
        why = f" ({exc})" if str(exc) else ""
        notes.extend(f"image-only page {number}: OCR not available{why}" for number in numbers)
        return
    except UnsupportedDocument as exc:  # past an OCR limit before any page was read
        if not any(text.strip() for text, _ in pages.values()):
            raise
        notes.append(f"image-only pages {', '.join(map(str, numbers))}: OCR stopped: {exc}")
        return
    except Exception as exc:
        why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if not any(text.strip() for text, _ in pages.values()):
            raise UnsupportedDocument(f"PDF has no text layer and OCR failed: {why}") from exc
        notes.append(f"image-only pages {', '.join(map(str, numbers))}: OCR failed: {why}")
        return
    for number, text, grids in read:
        text = text or ""
        if not text.strip() and not grids:
            continue
        before = pages.get(number)
        if before and before[0].strip() and not text.strip():
            text = before[0]  # OCR found tables only: the page's own words stay its text
        pages[number] = (text, list(grids))


def _open_pdfium(data: bytes):
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except Exception as exc:  # pdfminer read it, pdfium does not
        raise UnsupportedDocument(f"PDF cannot be read: {_describe_pdf_error(exc)}") from exc


def page_words_and_rulings(pdf, index: int, limits: DocumentLimits = DEFAULT_LIMITS
                           ) -> tuple[list[Word], list[Ruling] | None, float, int]:
    """The characters (with their boxes) and ruling segments of page `index` of a pypdfium2
    PdfDocument, in points from the page's top-left corner, the share of the page its images
    cover (0-1) and how many objects it holds. Past max_pdf_page_objects its paths are not read (rulings None).
    Characters pdfium generates (line breaks, spaces between words) are not read; a character's
    box is pdfminer's (its advance width, its font size above the baseline's descent), so that
    text lines and cells come out as pdfplumber read them."""
    api = _pdfium_api()
    page = pdf[index]
    try:
        left, bottom, right, top = page.get_mediabox()
        textpage = page.get_textpage()
        try:
            words = _page_words(api, api.handle(textpage.raw), top)
        finally:
            textpage.close()
        handle = api.handle(page.raw)
        objects = api.count_objects(handle)
        if objects > limits.max_pdf_page_objects:
            return words, None, 0, objects
        rulings: list[Ruling] = []
        images = _page_paths(api, handle, top, rulings, limits.max_pdf_page_objects + 1)
    finally:
        page.close()
    area = max((right - left) * (top - bottom), 1.0)
    return words, rulings, min(images / area, 1.0), objects


@functools.lru_cache(maxsize=1)
def _pdfium_api():
    """pdfium's functions this reader calls per character and per path, as ctypes prototypes over
    plain addresses: pypdfium2.raw's typed pointers cost a Python object per call and per result,
    and a page makes thousands of calls."""
    import ctypes

    from pypdfium2 import raw

    V, I, D, R = ctypes.c_void_p, ctypes.c_int, ctypes.c_double, ctypes.c_void_p  # R: an out pointer

    def proto(function, restype, *argtypes):
        return ctypes.CFUNCTYPE(restype, *argtypes)(ctypes.cast(function, V).value)

    return types.SimpleNamespace(
        handle=lambda pointer: ctypes.cast(pointer, V).value,
        raw=raw, ctypes=ctypes,
        count_chars=proto(raw.FPDFText_CountChars, I, V),
        get_text=proto(raw.FPDFText_GetText, I, V, I, I, R),
        get_unicode=proto(raw.FPDFText_GetUnicode, ctypes.c_uint, V, I),
        is_generated=proto(raw.FPDFText_IsGenerated, I, V, I),
        loose_box=proto(raw.FPDFText_GetLooseCharBox, I, V, I, R),
        text_object=proto(raw.FPDFText_GetTextObject, V, V, I),
        font_size=proto(raw.FPDFText_GetFontSize, D, V, I),
        char_matrix=proto(raw.FPDFText_GetMatrix, I, V, I, R),
        char_origin=proto(raw.FPDFText_GetCharOrigin, I, V, I, R, R),
        count_objects=proto(raw.FPDFPage_CountObjects, I, V),
        get_object=proto(raw.FPDFPage_GetObject, V, V, I),
        object_type=proto(raw.FPDFPageObj_GetType, I, V),
        object_matrix=proto(raw.FPDFPageObj_GetMatrix, I, V, R),
        object_bounds=proto(raw.FPDFPageObj_GetBounds, I, V, R, R, R, R),
        form_count=proto(raw.FPDFFormObj_CountObjects, I, V),
        form_object=proto(raw.FPDFFormObj_GetObject, V, V, ctypes.c_ulong),
        draw_mode=proto(raw.FPDFPath_GetDrawMode, I, V, R, R),
        count_segments=proto(raw.FPDFPath_CountSegments, I, V),
        get_segment=proto(raw.FPDFPath_GetPathSegment, V, V, I),
        segment_point=proto(raw.FPDFPathSegment_GetPoint, I, V, R, R),
        segment_type=proto(raw.FPDFPathSegment_GetType, I, V),
        segment_close=proto(raw.FPDFPathSegment_GetClose, I, V),
        PATH=raw.FPDF_PAGEOBJ_PATH, IMAGE=raw.FPDF_PAGEOBJ_IMAGE, FORM=raw.FPDF_PAGEOBJ_FORM,
    )


def _page_words(api, textpage: int, page_top: float) -> list[Word]:
    """The page's characters, 2 pdfium calls each (its box, its font size), the text of all in
    one call."""
    ctypes, raw = api.ctypes, api.raw
    count = api.count_chars(textpage)
    if count <= 0:
        return []
    buffer = (ctypes.c_ushort * (count + 1))()
    got = api.get_text(textpage, 0, count, ctypes.addressof(buffer))
    codes = bytes(buffer)[:2 * max(got - 1, 0)].decode("utf-16-le", "replace")
    if len(codes) != count:  # characters outside the BMP: one call per character instead
        codes = "".join(chr(api.get_unicode(textpage, i)) for i in range(count))
        codes = codes if len(codes) == count else [chr(api.get_unicode(textpage, i)) for i in range(count)]
    rect, matrix = raw.FS_RECTF(), raw.FS_MATRIX()
    ox, oy = ctypes.c_double(), ctypes.c_double()
    at_rect, at_matrix = ctypes.addressof(rect), ctypes.addressof(matrix)
    box, font_size = api.loose_box, api.font_size
    sizes: dict[tuple[float, float], float] = {}
    words = []
    for i, ch in enumerate(codes):
        if ch.isspace() or ch in "\ufffe\uffff\ufffd\x00":
            if not ch.isspace() or api.is_generated(textpage, i):
                continue  # a line break or space pdfium adds, or no character
            # a space the page prints separates words, as in pdfminer
        if not box(textpage, i, at_rect):
            continue
        # the font size in text space, scaled by the character's matrix: the scale is read once
        # for each (size, loose box height) pair (Word exports position every character in a
        # text object of its own; one font at one scale gives one box height)
        key = (font_size(textpage, i), rect.top - rect.bottom)
        size = sizes.get(key)
        if size is None:
            size = key[0]
            if size and api.char_matrix(textpage, i, at_matrix):
                size *= abs(matrix.a * matrix.d - matrix.b * matrix.c) ** 0.5
            else:
                size = 0.0
            sizes[key] = size
        if not size:
            size = key[1]
        if (rect.right - rect.left > 3 * size
                and api.char_origin(textpage, i, ctypes.addressof(ox), ctypes.addressof(oy))):
            # vertical writing (an Identity-V font): pdfium's loose box spans the advance
            # sideways; pdfminer's box is a size-wide square above the origin
            under = page_top - oy.value
            words.append(Word(ox.value, under - size, ox.value + size, under, ch))
            continue
        under = page_top - rect.bottom
        words.append(Word(rect.left, under - size, rect.right, under, ch))
    return words


_SEGMENT_BEZIER, _SEGMENT_MOVE = 1, 2
_IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _page_paths(api, page: int, page_top: float, rulings: list[Ruling], cap: int) -> float:
    """Ruling segments of the page's painted paths (form XObjects' included), at most `cap`;
    returns the area (square points) of the page's images. A path is read as pdfminer splits it: each
    subpath a line (two points), a rectangle (its extent: layout reads a thin one as a segment,
    a larger one as its four sides) or a polyline (each horizontal or vertical segment)."""
    ctypes = api.ctypes
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    at_fill, at_stroke = ctypes.addressof(fill), ctypes.addressof(stroke)
    x, y = ctypes.c_float(), ctypes.c_float()
    at_x, at_y = ctypes.addressof(x), ctypes.addressof(y)
    matrix = api.raw.FS_MATRIX()
    at_matrix = ctypes.addressof(matrix)
    object_type, get_segment, segment_point = api.object_type, api.get_segment, api.segment_point
    PATH, IMAGE, FORM = api.PATH, api.IMAGE, api.FORM
    images = 0.0
    x1, y1 = ctypes.c_float(), ctypes.c_float()
    at_x1, at_y1 = ctypes.addressof(x1), ctypes.addressof(y1)
    # (objects, parent matrix, depth): the page's objects, then each form XObject's
    get_object = api.get_object
    pending = [([get_object(page, i) for i in range(api.count_objects(page))], _IDENTITY, 0)]
    while pending:
        objects, parent, depth = pending.pop()
        for obj in objects:
            kind = object_type(obj)
            if kind != PATH:
                if kind == IMAGE and api.object_bounds(obj, at_x, at_y, at_x1, at_y1):
                    images += abs(x1.value - x.value) * abs(y1.value - y.value)
                elif kind == FORM and depth < 8 and api.object_matrix(obj, at_matrix):
                    own = _compose((matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f), parent)
                    pending.append(([api.form_object(obj, j) for j in range(api.form_count(obj))], own, depth + 1))
                continue
            if len(rulings) >= cap:
                continue
            if not api.draw_mode(obj, at_fill, at_stroke) or (not fill.value and not stroke.value):
                continue  # a path neither filled nor stroked draws nothing
            count = api.count_segments(obj)
            if count < 2 or not api.object_matrix(obj, at_matrix):
                continue
            own = (matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f)
            a, b, c, d, e, f = own if parent is _IDENTITY else _compose(own, parent)
            segments = [get_segment(obj, s) for s in range(count)]
            points = []
            for segment in segments:
                segment_point(segment, at_x, at_y)
                points.append((a * x.value + c * y.value + e, page_top - (b * x.value + d * y.value + f), False))
            if count == 2:  # moveto, lineto: a line
                _subpath_rulings(points, rulings)
                continue
            if count in (4, 5) and _is_rectangle(points[:4] if count == 5 and points[4][:2] == points[0][:2]
                                                 else points):
                if count == 5 or api.segment_close(segments[3]):  # its extent
                    xs, ys = (points[0][0], points[2][0]), (points[0][1], points[2][1])
                    rulings.append(Ruling(min(xs), min(ys), max(xs), max(ys)))
                    continue
            # any other shape: its subpaths as the segment types split it
            subpaths: list[list[tuple[float, float, bool]]] = []
            for segment, point in zip(segments, points):
                kind = api.segment_type(segment)
                point = (point[0], point[1], kind == _SEGMENT_BEZIER)
                if kind == _SEGMENT_MOVE or not subpaths:
                    subpaths.append([point])
                else:
                    subpaths[-1].append(point)
                if api.segment_close(segment) and subpaths[-1][0][:2] != point[:2]:
                    subpaths[-1].append((*subpaths[-1][0][:2], False))
            for subpath in subpaths:
                _subpath_rulings(subpath, rulings)
    del rulings[cap:]
    return images


def _compose(m, n):
    """The matrix m then n (PDF's row-vector convention: [a b c d e f])."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2,
            e * a2 + f * c2 + e2, e * b2 + f * d2 + f2)


def _subpath_rulings(points: list[tuple[float, float, bool]], rulings: list[Ruling]) -> None:
    if len(points) < 2:
        return
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    if len(points) == 2 and not points[1][2]:  # a line: only a horizontal or vertical one rules
        if abs(xs[0] - xs[1]) < 0.01 or abs(ys[0] - ys[1]) < 0.01:
            rulings.append(Ruling(min(xs), min(ys), max(xs), max(ys)))
        return
    if len(points) in (4, 5) and not any(p[2] for p in points) and _is_rectangle(points):
        rulings.append(Ruling(min(xs), min(ys), max(xs), max(ys)))
        return
    for (x0, y0, _), (x1, y1, bezier) in zip(points, points[1:]):
        if not bezier and (x0 == x1 or y0 == y1) and (x0, y0) != (x1, y1):
            rulings.append(Ruling(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))


def _is_rectangle(points) -> bool:
    """Four corners (a fifth closing on the first) joined by horizontal and vertical sides."""
    if len(points) == 5:
        if points[4][:2] != points[0][:2]:
            return False
    elif len(points) != 4:
        return False
    (ax, ay, _), (bx, by, _), (cx, cy, _), (dx, dy, _) = points[:4]
    return (((ax == bx) != (ay == by)) and ((bx == cx) != (by == cy)) and ((cx == dx) != (cy == dy))
            and ((dx == ax) != (dy == ay)))


def _pdf_declared_pages(doc) -> int | None:
    """The page count the document's catalog states (/Pages /Count): read without any page."""
    from pdfminer.pdftypes import resolve1

    try:
        count = resolve1(resolve1(doc.catalog.get("Pages")).get("Count"))
    except Exception:  # no page tree, or a broken one: pdfminer finds the pages another way
        return None
    return count if isinstance(count, int) else None


def _pdf_pages(doc):
    """pdfminer's pages one at a time (its page tree, or every page object when the tree is broken)."""
    from pdfminer.pdfpage import PDFPage

    yield from PDFPage.create_pages(doc)


def _pdf_page_content_bytes(page_obj) -> int:
    """Decoded size of what reading the page interprets: its content streams and the form
    XObjects of its resources (decoding is zlib's C; nothing is interpreted)."""
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


def _describe_pdf_error(exc: Exception) -> str:
    """pdfminer's and pdfium's errors, some of which have no message (an encrypted file raises
    PDFPasswordIncorrect()): name the error."""
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc.__cause__
    name = type(inner).__name__ if inner is not None else type(exc).__name__
    if "Password" in name or "Encrypt" in name or "password" in str(exc).lower():
        return f"the PDF is encrypted and needs a password ({name})"
    return f"{type(exc).__name__}: {exc}" if str(exc) else f"{type(exc).__name__}: {name}"


def pdf_table_grid(cells: list[tuple], text_of, limits: TableLimits | None = None) -> list[list[str]]:
    """The rows of layout.cells_grid: a grid from cell boxes, a merged cell's text repeated in
    each band it covers; [] when no cell has text. Raises GridTooLarge past `limits`."""
    grid = cells_grid(cells, text_of, limits)
    return grid.rows if grid else []
