"""The Document every reader produces (text plus table grids), the limits every reader
checks, and the readers of HTML and plain text. Which reader reads which input is declared
in warehouse.parse.formats; the PDF and office readers have their own modules.

`Document.text` is the visible text in reading order with each table rendered
one row per line, cells separated by ' | ', so that text-level detectors (era,
year) see the tables too.

Every reader checks DocumentLimits before its expensive step (a PDF's page count before
reading pages, a page's drawn objects before table finding, a DOCX's inflated sizes before
unzipping, an HTML table's spans while its grid is built), so a hostile document is refused
(DocumentTooLarge) or a hostile part skipped with a note in milliseconds.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from warehouse.parse.html_tables import TableLimits, cell_text, table_grid
from warehouse.parse.textnorm import NormText, normalise_text

CELL_SEP = " | "


class UnsupportedDocument(Exception):
    """The input cannot be read (e.g. .doc without a converter, image-only, corrupt)."""


class DocumentTooLarge(UnsupportedDocument):
    """The input passes a DocumentLimits bound: refused before the work it would cost."""


@dataclass(frozen=True)
class DocumentLimits:
    """What one document may cost the readers. Real maxima, measured on the ../shared corpus,
    the demo portal and the saved sites (2 real PDFs of 5 pages, 10 generated ones, 360 HTML
    pages; no real DOCX): 5 PDF pages; per PDF page 877 chars+lines+rects+curves of which 174
    lines+rects+curves, 57 ruling edges (810 horizontal x vertical pairs), 277 edge crossings;
    HTML 354,824 characters and 424 grid cells in a document; the table maxima are in
    TableLimits. The margins are wide (20x or more) where the cost grows with the input, and
    narrower where it grows with its square."""

    # A real annual report has < 60 pages; a PDF of 50,000 pages took 80 s and 4.5 GB.
    max_pdf_pages: int = 300
    # Decoded bytes of a page's content streams and form XObjects (real max 43,569, 23x),
    # measured by pdfminer before pdfium interprets them (~12 MB a second, in C that cannot be
    # interrupted; a zip-bomb stream would hold gigabytes): past it the page is not read.
    max_pdf_page_content_bytes: int = 1_000_000
    # chars+lines+rects+curves of a page (real max 877, 23x; pdfium's objects or the layout's
    # words+rulings): past it the page's text is read but its tables are not looked for
    # (table finding grows faster than its input; 30,000 rects cost 0.08 s, then no paths read).
    max_pdf_page_objects: int = 20_000
    # lines+rects+curves of a page (real max 174, 29x): each gives the layout 1-4 edges to
    # merge; past it the page's tables are not looked for.
    max_pdf_page_rulings: int = 5_000
    # horizontal x vertical ruling edges of a page (real max 810, 60x): the pairs the edge
    # crossing search tests one by one; past it the page's tables are not looked for.
    max_pdf_page_edge_pairs: int = 50_000
    # edge crossings of a page (real max 277, 7x; a 60x20-cell table has 1,281): cell finding
    # is quadratic in them (a grid of 100x100 tiny cells, 10,201 crossings, took 4.6 s, one of
    # 60x60, 2 s); past it the page's tables are not looked for.
    max_pdf_page_crossings: int = 2_000
    # characters tested against cell boxes to read one PDF table's cells (each cell tests the
    # characters within its height; real max 5,189, 39x): past it the table is not read.
    max_pdf_table_char_tests: int = 200_000
    # Inflated bytes of all a DOCX's zip members (a 3.4 MB DOCX inflating to 1 GB took 6 GB).
    max_zip_inflated_bytes: int = 100_000_000
    # Inflated bytes of one XML member: python-docx holds it as a tree of ~6x its size.
    max_zip_xml_bytes: int = 25_000_000
    # Inflated : compressed bytes of a member (100:1, as common zip-bomb guards) ...
    max_zip_ratio: int = 100
    # ... for members that inflate past this (a small member costs nothing whatever its ratio).
    zip_ratio_grace_bytes: int = 1_000_000
    # Zip members: a DOCX has about 10-40; each is read and kept by python-docx.
    max_zip_members: int = 10_000
    # OLE2 files (.doc, .wps, .xls, .et): directory entries (a .doc has about 10, an .xls 5) ...
    max_ole_streams: int = 1_000
    # ... and bytes of one stream read whole (the WordDocument, table or Workbook stream; the
    # invented fixtures' largest is 60 kB, a long real report a few MB).
    max_ole_stream_bytes: int = 64_000_000
    # Worksheets of a workbook (.xls, .xlsx, .et): later sheets are not read.
    max_sheets: int = 100
    # Cells of a worksheet's used range, as its records or <dimension> state it, before it is
    # read (a report's table sheet has about 300): a larger sheet is skipped with a note; the
    # grid of a sheet under it is still cut at TableLimits.max_cells.
    max_sheet_cells: int = 1_000_000
    # Characters of an HTML page or a text document after decoding (real max 354,824, 56x).
    max_decoded_chars: int = 20_000_000
    # Cells of all a document's table grids (real max 424, 470x): later tables are skipped.
    max_document_cells: int = 200_000
    # Characters of all a document's grids, spanned cells repeated (real max 2,984): later
    # tables are skipped.
    max_document_table_chars: int = 5_000_000
    # Images (PNG/JPEG/GIF/WebP) and OCR (warehouse.parse.images, warehouse.parse.ocr). Pixels of
    # an image, read from its header before it is decoded (an A4 page scanned at 600 dpi has 35
    # million; a 20,000 x 20,000 image, 400 million, would need 400 MB grey and 1.2 GB RGB).
    max_image_pixels: int = 60_000_000
    # Frames of an animated GIF/WebP: a report image has one; only the first is read.
    max_image_frames: int = 50
    # Pixels of a page as OCR reads it, after enlarging it 1.5x (A4 at 200 dpi: 8.8 million): a
    # larger page is read scaled down to it (tesseract's time grows with the pixels: 3.4 s CPU
    # for an A4 table page at 200 dpi).
    max_ocr_page_pixels: int = 25_000_000
    # Pages OCR'd in a document (an image-only report has 3-10): later pages are not read.
    max_ocr_pages: int = 30
    # Wall-clock seconds of OCR a document (under the parse worker's 180 s; a page takes about
    # 8.5 s of CPU): pages after it are not read, and a document with no page read by then is refused.
    max_ocr_seconds: float = 150.0
    # Bounds on each table grid: spans, cells and text.
    tables: TableLimits = field(default_factory=TableLimits)


DEFAULT_LIMITS = DocumentLimits()


class TableBudget:
    """The document's grid cells and characters so far (DocumentLimits.max_document_*): a table
    that would pass them is skipped, with one note for the document."""

    def __init__(self, limits: DocumentLimits, notes: list[str]):
        self.limits, self.notes = limits, notes
        self.cells = self.chars = 0
        self.full = False

    def admit(self, grid: list[list[str]]) -> bool:
        if self.full:
            return False
        cells = len(grid) * len(grid[0]) if grid else 0
        chars = sum(len(text) for row in grid for text in row)
        limits = self.limits
        if self.cells + cells > limits.max_document_cells:
            why = f"the document's tables pass {limits.max_document_cells:,} cells"
        elif self.chars + chars > limits.max_document_table_chars:
            why = f"the document's tables pass {limits.max_document_table_chars:,} characters"
        else:
            self.cells += cells
            self.chars += chars
            return True
        self.full = True
        self.notes.append(f"{why}: this table and the tables after it are not read")
        return False


@dataclass
class Table:
    index: int                 # 1-based position among the document's tables
    rows: list[list[str]]      # grid with row/col spans expanded (a spanned cell repeats its text)
    page: int | None = None    # PDF page the table was found on
    # Each cell's box on its page (points, top-left origin), for positioned readers (PDF, OCR).
    boxes: list[list[tuple[float, float, float, float] | None]] | None = None
    # Each cell's lowest OCR word confidence (0-1); None throughout when not OCR'd.
    confidence: list[list[float | None]] | None = None

    @property
    def ocr(self) -> bool:
        """Whether the table was read by OCR (some cell carries an OCR confidence)."""
        return bool(self.confidence) and any(c is not None for row in self.confidence for c in row)

    def as_text(self) -> str:
        return "\n".join(CELL_SEP.join(row) for row in self.rows)


@dataclass
class Document:
    kind: str                  # a kind of warehouse.parse.formats.FORMATS
    text: str                  # visible text in reading order
    tables: list[Table] = field(default_factory=list)
    title: str | None = None   # <title>, first heading, or crawler header title
    meta: dict[str, str] = field(default_factory=dict)  # page metadata, e.g. 发布机构, 发布日期
    notes: list[str] = field(default_factory=list)
    # Where `text` goes on with the tables' grids rendered after the reader's own text (PDF,
    # OCR: their own text is extracted apart from the grids); None where there is no such part.
    grids_text_at: int | None = None

    @cached_property
    def normalised(self) -> NormText:
        """`text` as the rules read it (textnorm.normalise_text), computed once per document."""
        return normalise_text(self.text)


# ---------------------------------------------------------------- text decoding

_DECLARED_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.I)
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode text: BOM, then strict UTF-8, then the declared charset, then GB18030, then a guess.

    Declarations are verified by decoding strictly: pages declared GB2312 are often
    UTF-8, and UTF-8 pages are sometimes really GBK.
    """
    return decode_text(data, declared)[0]


def decode_text(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """decode_bytes, also answering the encoding that was used."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="replace"), encoding
    candidates = ["utf-8"]
    if declared:
        candidates.append(_widen(declared))
    candidates.append("gb18030")
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            continue
    return _guess_decode(data)


def _codec_name(encoding: str | None) -> str | None:
    try:
        return codecs.lookup(_widen(encoding)).name if encoding else None
    except LookupError:
        return encoding.lower()


def charset_note(declared: str | None, used: str) -> str | None:
    """Why the text may be odd: the page's charset declaration is missing or wrong."""
    if not declared:
        return None if _codec_name(used) == "utf-8" else f"no charset declared; decoded as {used}"
    if _codec_name(declared) != _codec_name(used):
        return f"charset declared {declared}, decoded as {used}"
    return None


def _widen(encoding: str) -> str:
    """GB2312/GBK declarations are read as GB18030, their superset."""
    encoding = encoding.lower()
    return "gb18030" if encoding in ("gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936") else encoding


def _guess_decode(data: bytes) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None:
        return str(best), best.encoding
    return data.decode("utf-8", errors="replace"), "utf-8 (with replacements)"


# Replacement characters and control characters other than \t \n \f \r.
_BINARY_CHARS = re.compile(r"[\ufffd\x00-\x08\x0b\x0e-\x1f]")


def looks_binary(text: str) -> bool:
    if not text:
        return True
    bad = len(_BINARY_CHARS.findall(text, 0, 5000))
    return bad / min(len(text), 5000) > 0.05


# ---------------------------------------------------------------- HTML

_META_FIELDS = ("发布机构", "发布日期", "成文日期", "索引号", "发文字号", "文号", "主题分类",
                "公开方式", "发布单位", "发布时间", "来源", "信息来源", "生成日期", "公开日期", "所属机构")
_META_TAGS = ("ArticleTitle", "PubDate", "ContentSource", "SiteName", "ColumnName", "Keywords",
              "Description", "Author", "Url")


# Not allowed in an HTML/XML tree: lxml refuses a string holding NUL, and drops or cuts at others.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# The same characters in UTF-8: single bytes, found in no other character's encoding.
_CONTROL_BYTES = bytes(range(0x09)) + b"\x0b" + bytes(range(0x0e, 0x20)) + b"\x7f"
_SCRIPTS = re.compile(r"<(script|style)\b.*?</\1\s*>", re.I | re.S)


def _has_control_chars(text: str) -> bool:
    """Whether `text` holds a _CONTROL_CHARS character. Most pages hold none, and bytes.translate
    tells that several times faster than the regex, which tests a class at every character."""
    encoded = text.encode("utf-8", "surrogatepass")
    return len(encoded.translate(None, _CONTROL_BYTES)) != len(encoded)


@lru_cache(maxsize=1)
def _html_parser():
    """lxml.html's parser with every element an HtmlElement. lxml.html picks each element's
    class (form, input, select …) with a Python callback, run for every element the readers
    touch; they use no form API, and a class fixed in C makes the tree walks cheaper."""
    from lxml import etree
    from lxml import html as lxml_html

    parser = lxml_html.HTMLParser()
    parser.set_element_class_lookup(etree.ElementDefaultClassLookup(
        element=lxml_html.HtmlElement, comment=lxml_html.HtmlComment,
        pi=lxml_html.HtmlProcessingInstruction, entity=lxml_html.HtmlEntity))
    return parser


def load_html(data: bytes, content_type: str | None = None, limits: DocumentLimits = DEFAULT_LIMITS) -> Document:
    from lxml import html as lxml_html

    m = _DECLARED_CHARSET.search(data[:4096]) or _DECLARED_CHARSET.search((content_type or "").encode("latin-1", "replace"))
    declared = m.group(1).decode("ascii") if m else None
    markup, used = decode_text(data, declared)
    _check_decoded_size("HTML", markup, limits)
    if looks_binary(markup):
        raise UnsupportedDocument("HTML input is not readable text")
    notes = [note for note in [charset_note(declared, used)] if note]
    removed = 0
    if _has_control_chars(markup):
        markup, removed = _CONTROL_CHARS.subn("", markup)
    if removed:
        notes.append(f"{removed} NUL/control characters removed from the HTML")
    notes += _truncation_notes(markup)
    markup = re.sub(r"^\s*<\?xml[^>]*\?>", "", markup)
    root = lxml_html.fromstring(markup or "<html></html>", parser=_html_parser())
    for bad in root.xpath("//script|//style|//noscript|//template"):
        _drop_keep_tail(bad)
    tables: list[Table] = []
    text = _html_visible_text(root, tables, notes, limits)
    doc = Document(kind="html", text=text, tables=tables, notes=notes)
    doc.meta = _html_meta(root, text)
    doc.title = _html_title(root, doc.meta)
    return doc


def _check_decoded_size(kind: str, text: str, limits: DocumentLimits) -> None:
    if len(text) > limits.max_decoded_chars:
        raise DocumentTooLarge(f"{kind} has {len(text):,} characters after decoding"
                               f" (limit {limits.max_decoded_chars:,})")


def _truncation_notes(markup: str) -> list[str]:
    """A page cut short (a transfer or an editor that stopped mid-table) still parses:
    say that its end is missing, since its last figures are."""
    notes = []
    if re.search(r"<html[\s>]", markup[:4096], re.I) and not re.search(r"</html\s*>", markup, re.I):
        notes.append("HTML ends before </html>: the page may be truncated")
    outside_scripts = _SCRIPTS.sub("", markup)
    unclosed = len(re.findall(r"<table[\s>]", outside_scripts, re.I)) - len(re.findall(r"</table\s*>", outside_scripts, re.I))
    if unclosed > 0:
        notes.append(f"{unclosed} <table> tag(s) not closed: the table may be cut or malformed")
    return notes


def _drop_keep_tail(node) -> None:
    node.drop_tree() if hasattr(node, "drop_tree") else node.getparent().remove(node)


_BLOCKS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "section",
           "article", "header", "footer", "tr", "dl", "dt", "dd", "blockquote", "pre", "hr", "title"}


def _html_visible_text(root, tables: list[Table], notes: list[str] | None = None,
                       limits: DocumentLimits = DEFAULT_LIMITS) -> str:
    """Walk the tree: block elements start lines; each table becomes its rows as lines."""
    parts: list[str] = []
    notes = notes if notes is not None else []
    budget = TableBudget(limits, notes)

    def grid_of(table) -> list[list[str]]:
        if budget.full:  # the document's tables passed their limits: no more grids are built
            return []
        span_notes: list[str] = []
        grid = table_grid(table, span_notes, limits.tables)
        if span_notes:
            notes.append(f"table {len(tables) + 1}: " + "; ".join(dict.fromkeys(span_notes)))
        return grid if budget.admit(grid) else []

    def walk(node) -> None:
        # every lxml property read (tag, text, tail) builds a new str: each is read once
        tag = node.tag
        if not isinstance(tag, str):  # a comment or processing instruction
            tag = ""
        tail = node.tail
        if tag == "table":
            nested = [inner for inner in node.iter("table") if inner is not node]
            grid = grid_of(node)
            if grid:
                table = Table(index=len(tables) + 1, rows=grid)
                tables.append(table)
                parts.append("\n" + table.as_text() + "\n")
            if nested:  # their text is in no cell of this table: say so
                notes.append(f"table {len(tables)}: {len(nested)} nested table(s) in its cells, read as separate tables")
            # nested tables are registered by their own walk
            for inner in nested:
                grid = grid_of(inner)
                if grid:
                    tables.append(Table(index=len(tables) + 1, rows=grid))
            if tail:
                parts.append(tail)
            return
        if tag in ("head",):
            if tail:
                parts.append(tail)
            return
        block = tag in _BLOCKS
        if block:
            parts.append("\n")
        if tag:
            text = node.text
            if text:
                parts.append(text)
        for child in node:
            walk(child)
        if block:
            parts.append("\n")
        if tail:
            parts.append(tail)

    walk(root)
    return tidy_text("".join(parts))


_SPACE_RUNS = re.compile("  +")


def tidy_text(text: str) -> str:
    """Fold runs of blanks per line, drop empty lines."""
    # Each blank to a space, then runs of spaces to one: as fast as str.replace, while a regex
    # for runs of the blank characters tests their class at every character of the text.
    for blank in "\t\u00a0\u3000\u200b":
        text = text.replace(blank, " ")
    lines = (line.strip() for line in _SPACE_RUNS.sub(" ", text).splitlines())  # no blank is a line break
    return "\n".join(line for line in lines if line)


def _html_meta(root, text: str) -> dict[str, str]:
    meta: dict[str, str] = {}
    for tag in root.xpath("//meta[@name]"):
        name, content = tag.get("name", ""), (tag.get("content") or "").strip()
        if name in _META_TAGS and content:
            meta[name] = content
    meta.update(fields_from_text(text))
    if "发布机构" not in meta and meta.get("ContentSource"):
        meta["发布机构"] = meta["ContentSource"]
    if "发布日期" not in meta and meta.get("PubDate"):
        meta["发布日期"] = meta["PubDate"].split()[0]
    return meta


_FIELD_RE = re.compile(r"(%s)\s*[:：]\s*(?:\|\s*)?([^|\n]{1,80})" % "|".join(_META_FIELDS))


def fields_from_text(text: str) -> dict[str, str]:
    """`发布机构：X` style fields (also in metadata tables rendered as `发布机构： | X`)."""
    fields: dict[str, str] = {}
    for m in _FIELD_RE.finditer(text[:6000]):
        value = m.group(2).strip()
        # a metadata line may hold several fields: cut at the next field name
        value = re.split(r"\s+(?:%s)\s*[:：]" % "|".join(_META_FIELDS), value)[0].strip()
        if value and m.group(1) not in fields:
            fields[m.group(1)] = value
    if "发布日期" not in fields and "发布时间" in fields:
        fields["发布日期"] = fields["发布时间"].split()[0]
    return fields


def _html_title(root, meta: dict[str, str]) -> str | None:
    if meta.get("ArticleTitle"):
        return meta["ArticleTitle"]
    for xpath in ("//title", "//h1", "//h2"):
        for node in root.xpath(xpath):
            title = cell_text(node)
            if title:
                return title
    return None


# ---------------------------------------------------------------- PDF

_PAGE_MARKER = re.compile(r"^\s*[-—–－]\s*\d{1,3}\s*[-—–－]\s*$|^\s*第\s*\d+\s*页\s*(共\s*\d+\s*页)?\s*$")


def strip_page_markers(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not _PAGE_MARKER.match(line))


def first_title_line(text: str) -> str | None:
    for line in text.splitlines()[:15]:
        if "报告" in line or "年度" in line:
            return line.strip()
    return None


# ---------------------------------------------------------------- plain text

_CRAWLER_TITLE = re.compile(r"^\s*(?:标题|题目|title)\s*[:：]\s*(.+)$", re.I | re.M)


def load_text(data: bytes, limits: DocumentLimits = DEFAULT_LIMITS) -> Document:
    text = decode_bytes(data)
    _check_decoded_size("text", text, limits)
    if looks_binary(text):
        raise UnsupportedDocument("input is binary data, not text")
    text = strip_page_markers(text.replace("\r\n", "\n").replace("\r", "\n"))
    doc = Document(kind="text", text=text)
    m = _CRAWLER_TITLE.search(text[:2000])
    doc.title = m.group(1).strip() if m else first_title_line(text)
    doc.meta = fields_from_text(text)
    return doc
