"""Report images (PNG, JPEG, GIF, WebP: a "图片版" page's tables, a scanned report attached as
an image) read by OCR (warehouse.parse.ocr) into a Document of kind "image".

Bounded before any pixel is decoded: Pillow's Image.open reads only the header, so the size and
frame count are checked first (DocumentLimits.max_image_pixels, max_image_frames), and
Image.MAX_IMAGE_PIXELS is set to the same bound so that no decoder goes past it either. An image
that cannot be decoded, one that passes a bound, and one whose OCR finds no report words (a photo,
a logo, a banner) are refused with their reason (UnsupportedDocument / DocumentTooLarge).
"""
from __future__ import annotations

import io

from warehouse.parse.documents import (
    DEFAULT_LIMITS,
    Document,
    DocumentLimits,
    DocumentTooLarge,
    Table,
    TableBudget,
    UnsupportedDocument,
    fields_from_text,
    first_title_line,
)

__all__ = ["load_image", "open_image", "add_page_images", "page_image_order", "with_page_images"]


def open_image(data: bytes, limits: DocumentLimits = DEFAULT_LIMITS):
    """The first frame of an image, decoded after its header passed the limits (PIL Image, grey)."""
    from PIL import Image

    # Pillow's own bomb check (a warning past MAX_IMAGE_PIXELS, an error past twice it) runs in
    # Image.open: off there, so that the bound below names the size it refuses; on again, at the
    # same bound, for anything else this process decodes.
    Image.MAX_IMAGE_PIXELS = None
    try:
        image = Image.open(io.BytesIO(data))
    except Exception as exc:
        raise UnsupportedDocument(f"image cannot be read: {type(exc).__name__}: {exc}") from exc
    finally:
        Image.MAX_IMAGE_PIXELS = limits.max_image_pixels
    width, height = image.size
    if width * height > limits.max_image_pixels:
        raise DocumentTooLarge(f"image has {width:,} x {height:,} pixels"
                               f" (limit {limits.max_image_pixels:,} pixels), refused before decoding")
    frames = getattr(image, "n_frames", 1)
    if frames > limits.max_image_frames:
        raise DocumentTooLarge(f"image has {frames:,} frames (limit {limits.max_image_frames:,})")
    try:
        image.seek(0)
        image.load()
        grey = image.convert("L")
    except Exception as exc:   # truncated or corrupt pixel data
        raise UnsupportedDocument(f"image cannot be decoded: {type(exc).__name__}: {exc}") from exc
    if width < 32 or height < 32:
        raise UnsupportedDocument(f"image of {width} x {height} pixels is too small to hold a report page")
    grey.info["frames"] = frames
    return grey


def load_image(data: bytes, limits: DocumentLimits = DEFAULT_LIMITS) -> Document:
    """An image report page: its OCR'd text and table grids (each cell's box and confidence)."""
    import warehouse.parse.ocr as ocr

    image = open_image(data, limits)
    notes: list[str] = []
    frames = image.info.get("frames", 1)
    if frames > 1:
        notes.append(f"image has {frames} frames: the first is read")
    page = ocr.read_pages([(1, image)], limits, notes)[0]
    if not ocr.looks_like_report(page.text):
        raise UnsupportedDocument(f"image holds no report text (OCR read {len(page.text.strip())} characters,"
                                  f" none of the words a report prints)")
    tables: list[Table] = []
    budget = TableBudget(limits, notes)
    for grid in page.grids:
        if budget.admit(grid.rows):
            tables.append(Table(index=len(tables) + 1, rows=grid.rows, page=1, boxes=grid.boxes,
                                confidence=grid.confidence))
    table_text = "\n\n".join(t.as_text() for t in tables)
    doc = Document(kind="image", text=page.text + ("\n\n" + table_text if table_text else ""), tables=tables,
                   grids_text_at=len(page.text) + 2 if table_text else None,
                   notes=notes)
    doc.title = first_title_line(page.text)
    doc.meta = fields_from_text(page.text)
    return doc


# ------------------------------------------------------------------ a page whose tables are images

_IMAGE_SOURCE_ATTRIBUTES = ("src", "data-src", "data-original")


def page_image_order(html: bytes | str, page_url: str, urls) -> list[str]:
    """`urls` (images fetched from a report page) in the order the page shows them (its <img>
    src / data-src / data-original, and <a href> around them, resolved against the page URL);
    those the page does not name come last, in URL order."""
    from urllib.parse import urldefrag, urljoin

    import lxml.html

    wanted = set(urls)
    order: dict[str, int] = {}
    try:
        root = lxml.html.document_fromstring(html or "<html></html>")
    except Exception:   # not HTML after all: URL order
        root = None
    if root is not None:
        base = root.find(".//base[@href]")
        base_url = urljoin(page_url, base.get("href")) if base is not None else page_url
        for node in root.iter("img", "a"):
            names = _IMAGE_SOURCE_ATTRIBUTES if node.tag == "img" else ("href",)
            for name in names:
                value = (node.get(name) or "").strip()
                if not value or value.lower().startswith(("data:", "javascript:")):
                    continue
                try:
                    url = urldefrag(urljoin(base_url, value)).url
                except ValueError:
                    continue
                if url in wanted and url not in order:
                    order[url] = len(order)
    return sorted(wanted, key=lambda url: (order.get(url, len(order)), url))


def add_page_images(page: Document, images, limits: DocumentLimits = DEFAULT_LIMITS) -> Document:
    """A report page (its Document: title, agency, year, dates in its text) with its images'
    OCR text and tables after it, as ONE document of kind "image" (its figures are read by OCR):
    `images` [(name, bytes or a callable giving them)] in page order; image i is page i of the
    document (Table.page), its tables numbered after the page's own. The images share one OCR
    budget, as the pages of a scanned PDF do (max_ocr_pages, max_ocr_seconds): the images past it
    are not read (a note says which). An image that cannot be read, one past a size limit and one
    whose OCR finds neither a table nor report words (a photo, a banner) are left out with a note. Loaded one at a
    time: the document never holds two images' pixels."""
    import warehouse.parse.ocr as ocr

    notes = list(page.notes)
    tables = list(page.tables)
    budget_tables = TableBudget(limits, notes)
    for table in tables:
        budget_tables.admit(table.rows)
    ocr_budget = ocr._Budget(limits)
    texts: list[str] = []
    read = 0
    images = list(images)
    try:
        ocr.engine()
    except ocr.OcrUnavailable as exc:   # the page as it reads without its images
        page.notes.append(f"{len(images)} images of the page not read: {exc}")
        return page
    for number, (name, data) in enumerate(images, start=1):
        if number > limits.max_ocr_pages:
            notes.append(f"images {number}-{len(images)} of the page: not read by OCR"
                         f" (limit {limits.max_ocr_pages} OCR pages a document)")
            break
        try:
            image = open_image(data() if callable(data) else data, limits)
            page_read = ocr.read_page(image, number, limits, notes, ocr_budget)
        except ocr._OutOfTime:
            notes.append(f"images {number}-{len(images)} of the page: not read by OCR"
                         f" (past its time limit of {limits.max_ocr_seconds:g} s a document)")
            break
        except UnsupportedDocument as exc:
            notes.append(f"image {number} of the page ({name}): {exc}")
            continue
        finally:
            image = None
        if not page_read.grids and not ocr.looks_like_report(page_read.text):
            # a table image need not print the report's words (its heading is the page's text)
            notes.append(f"image {number} of the page ({name}): no table and no report text (OCR read"
                         f" {len(page_read.text.strip())} characters), left out")
            continue
        read += 1
        texts.append(page_read.text)
        for grid in page_read.grids:
            if budget_tables.admit(grid.rows):
                tables.append(Table(index=len(tables) + 1, rows=grid.rows, page=number, boxes=grid.boxes,
                                    confidence=grid.confidence))
    notes.append(f"a page of images: {read} of {len(images)} images read by OCR after the page's text")
    text = "\n\n".join([page.text, *texts])
    image_tables = [t for t in tables if t.ocr]
    table_text = "\n\n".join(t.as_text() for t in image_tables)
    return Document(kind="image", text=text + ("\n\n" + table_text if table_text else ""), tables=tables,
                    title=page.title, meta=dict(page.meta), notes=notes,
                    grids_text_at=len(text) + 2 if table_text else None)


def with_page_images(page: Document, data: bytes, page_url: str, images) -> Document:
    """A report page whose tables are images (图片版) as ONE document: `images` [(URL, bytes or a
    callable giving them)] put in the page's order (`data`: the page's body, `page_url` its URL)
    and read after its text (add_page_images)."""
    by_url = dict(images)
    ordered = page_image_order(data, page_url, list(by_url)) if page.kind == "html" else sorted(by_url)
    return add_page_images(page, [(url, by_url[url]) for url in ordered])
