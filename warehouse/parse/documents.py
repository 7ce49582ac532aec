"""Load any input (HTML, PDF, DOCX, DOC, text) into a Document: text plus table grids.

The kind is detected from magic bytes first, then the file name or content type.
`Document.text` is the visible text in reading order with each table rendered
one row per line, cells separated by ' | ', so that text-level detectors (era,
year) see the tables too.

Every reader checks DocumentLimits before its expensive step (a PDF's page count before
reading pages, a page's drawn objects before table finding, a DOCX's inflated sizes before
unzipping, an HTML table's spans while its grid is built), so a hostile document is refused
(DocumentTooLarge) or a hostile part skipped with a note in milliseconds.
"""
from __future__ import annotations

import bisect
import codecs
import io
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from warehouse.parse.html_tables import GridTooLarge, TableLimits, cell_text, table_grid
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
    # Decoded bytes of a page's content streams and form XObjects (real max 43,569, 23x):
    # pdfminer reads ~0.1 MB of drawing operators a second; past it the page is not read.
    max_pdf_page_content_bytes: int = 1_000_000
    # chars+lines+rects+curves of a page (real max 877, 23x): past it the page's text is read
    # but its tables are not looked for (table finding grows faster than its input).
    max_pdf_page_objects: int = 20_000
    # lines+rects+curves of a page (real max 174, 29x): each gives the table finder 1-4 edges
    # to merge (10,000 rects: 1.3 s); past it the page's tables are not looked for.
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
    # Characters of an HTML page or a text document after decoding (real max 354,824, 56x).
    max_decoded_chars: int = 20_000_000
    # Cells of all a document's table grids (real max 424, 470x): later tables are skipped.
    max_document_cells: int = 200_000
    # Characters of all a document's grids, spanned cells repeated (real max 2,984): later
    # tables are skipped.
    max_document_table_chars: int = 5_000_000
    # Bounds on each table grid: spans, cells and text.
    tables: TableLimits = field(default_factory=TableLimits)


DEFAULT_LIMITS = DocumentLimits()


class _TableBudget:
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

    def as_text(self) -> str:
        return "\n".join(CELL_SEP.join(row) for row in self.rows)


@dataclass
class Document:
    kind: str                  # html | pdf | docx | text
    text: str                  # visible text in reading order
    tables: list[Table] = field(default_factory=list)
    title: str | None = None   # <title>, first heading, or crawler header title
    meta: dict[str, str] = field(default_factory=dict)  # page metadata, e.g. 发布机构, 发布日期
    notes: list[str] = field(default_factory=list)

    @cached_property
    def normalised(self) -> NormText:
        """`text` as the rules read it (textnorm.normalise_text), computed once per document."""
        return normalise_text(self.text)


# ---------------------------------------------------------------- kind detection

def detect_kind(data: bytes, filename: str = "", content_type: str | None = None) -> str:
    """html | pdf | docx | doc | text, from magic bytes, then the name or content type."""
    head = data[:8]
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "doc"
    # Markup at the very start is HTML whatever the name says: soft-404 pages answered
    # under a .pdf URL, Word "save as web page" files named .doc.
    if _LEADING_HTML.match(data[:1024]):
        return "html"
    hint = f"{filename} {content_type or ''}".lower()
    for kind, marks in (("pdf", (".pdf", "application/pdf")),
                        ("docx", (".docx", "wordprocessingml")),
                        ("doc", (".doc ", "msword")),
                        ("html", (".htm", "text/html", "xhtml"))):
        if any(m in hint + " " for m in marks):
            return kind
    sniff = data[:4096].lower()
    if re.search(rb"<(!doctype html|html|head|body|table|p|div)[\s>]", sniff):
        return "html"
    return "text"


_LEADING_HTML = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)[\s>]", re.I | re.S)


def load_document(data: bytes, filename: str = "", content_type: str | None = None,
                  limits: DocumentLimits = DEFAULT_LIMITS) -> Document:
    """`data` as a Document; UnsupportedDocument (DocumentTooLarge past `limits`) when it cannot be read."""
    if not data or not data.strip():
        raise UnsupportedDocument("empty document")
    kind = detect_kind(data, filename, content_type)
    try:
        if kind == "html":
            return load_html(data, content_type, limits)
        return {"pdf": load_pdf, "docx": load_docx, "doc": load_doc, "text": load_text}[kind](data, limits)
    except UnsupportedDocument:
        raise
    except Exception as exc:  # a reader library choking on hostile input is an unreadable document, not a crash
        raise UnsupportedDocument(f"{kind} cannot be read: {type(exc).__name__}: {exc}") from exc


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


def _looks_binary(text: str) -> bool:
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
    if _looks_binary(markup):
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
    budget = _TableBudget(limits, notes)

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


_PDF_TABLE_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}


def load_pdf(data: bytes, limits: DocumentLimits = DEFAULT_LIMITS) -> Document:
    import pdfplumber

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfminer raises many types for broken/encrypted files
        raise UnsupportedDocument(f"PDF cannot be read: {_describe_pdf_error(exc)}") from exc
    texts, tables, notes = [], [], []
    budget = _TableBudget(limits, notes)
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
    doc.title = _first_title_line(text)
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


def _first_title_line(text: str) -> str | None:
    for line in text.splitlines()[:15]:
        if "报告" in line or "年度" in line:
            return line.strip()
    return None


# ---------------------------------------------------------------- DOCX / DOC

def load_docx(data: bytes, limits: DocumentLimits = DEFAULT_LIMITS) -> Document:
    import docx

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise UnsupportedDocument("DOCX input is not a zip archive")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise UnsupportedDocument(f"DOCX cannot be read: {type(exc).__name__}: {exc}") from exc
    check_zip_members(members, limits, "DOCX")
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise UnsupportedDocument(f"DOCX cannot be read: {type(exc).__name__}: {exc}") from exc
    parts, tables, notes = [], [], []
    budget = _TableBudget(limits, notes)
    for block in _docx_blocks(document, limits, notes):
        if isinstance(block, list):
            if not budget.admit(block):
                continue
            table = Table(index=len(tables) + 1, rows=block)
            tables.append(table)
            parts.append(table.as_text())
        elif block.strip():
            parts.append(block.strip())
    text = "\n".join(parts)
    if not text.strip():
        raise UnsupportedDocument("DOCX has no text")
    doc = Document(kind="docx", text=text, tables=tables, notes=notes)
    doc.title = (document.core_properties.title or "").strip() or _first_title_line(text)
    doc.meta = fields_from_text(text)
    return doc


def check_zip_members(members: list[zipfile.ZipInfo], limits: DocumentLimits = DEFAULT_LIMITS,
                      kind: str = "zip") -> None:
    """Refuse a zip bomb from its central directory, before anything is inflated. zipfile
    inflates a member to no more than the size stated there (a member that inflates further
    fails its CRC check), so the stated sizes bound what reading the members costs."""
    if len(members) > limits.max_zip_members:
        raise DocumentTooLarge(f"{kind} has {len(members):,} zip members (limit {limits.max_zip_members:,})")
    total = sum(member.file_size for member in members)
    if total > limits.max_zip_inflated_bytes:
        raise DocumentTooLarge(f"{kind} inflates to {total:,} bytes (limit {limits.max_zip_inflated_bytes:,})")
    for member in members:
        size = member.file_size
        if size > limits.max_zip_xml_bytes and member.filename.lower().endswith((".xml", ".rels")):
            raise DocumentTooLarge(f"{kind} member {member.filename[:80]} inflates to {size:,} bytes of XML"
                                   f" (limit {limits.max_zip_xml_bytes:,})")
        ratio = size / max(member.compress_size, 1)
        if size > limits.zip_ratio_grace_bytes and ratio > limits.max_zip_ratio:
            raise DocumentTooLarge(f"{kind} member {member.filename[:80]} inflates {ratio:,.0f}:1"
                                   f" ({member.compress_size:,} to {size:,} bytes; limit {limits.max_zip_ratio}:1)")


def _docx_blocks(document, limits: DocumentLimits = DEFAULT_LIMITS, notes: list[str] | None = None):
    """Paragraph texts and table grids in body order."""
    from docx.table import Table as DocxTable
    from docx.text.paragraph import Paragraph

    notes = notes if notes is not None else []
    count = 0
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            yield Paragraph(child, document).text
        elif tag == "tbl":
            count += 1
            table_notes: list[str] = []
            grid = _docx_grid(DocxTable(child, document), limits.tables, table_notes)
            if table_notes:
                notes.append(f"table {count}: " + "; ".join(dict.fromkeys(table_notes)))
            yield grid


def _docx_grid(table, limits: TableLimits | None = None, notes: list[str] | None = None) -> list[list[str]]:
    """The grid of a python-docx table as its rows' `cells` give it (a horizontally merged cell
    repeated in each grid column it spans, a vertically merged one in each row), built here
    from the XML so that spans are clamped (TableLimits.max_colspan) and the grid is bounded
    (max_cells, max_chars): python-docx repeats a cell gridSpan times, however large, and finds
    each vertically merged cell's text by walking up the rows. Each cell's text is read once."""
    from docx.table import _Cell

    limits = limits or TableLimits()
    notes = notes if notes is not None else []
    rows: list[list[str]] = []
    width = chars = 0
    above: dict[int, tuple[str, int]] = {}  # grid offset -> (text, span) of the row above's cells
    trs = table._tbl.tr_lst
    for r, tr in enumerate(trs):
        row: list[str] = []
        here: dict[int, tuple[str, int]] = {}
        offset = tr.grid_before
        try:
            for tc in tr.tc_lst:
                span = tc.grid_span
                if span > limits.max_colspan or span < 1:
                    notes.append(f"gridSpan {span} read as {max(1, min(span, limits.max_colspan))}")
                    span = max(1, min(span, limits.max_colspan))
                # a continued vertical merge shows the cell above it, as many times as that spans
                cell = above.get(offset) if tc.vMerge == "continue" else None
                if cell is None:
                    cell = (re.sub(r"\s+", " ", _Cell(tc, table).text).strip(), span)
                here[offset] = cell
                text, cell_span = cell
                if (r + 1) * max(width, len(row) + cell_span) > limits.max_cells:
                    raise GridTooLarge(f"{r + 1} rows x {max(width, len(row) + cell_span)} columns"
                                       f" pass {limits.max_cells:,} cells")
                chars += len(text) * cell_span
                if chars > limits.max_chars:
                    raise GridTooLarge(f"its text passes {limits.max_chars:,} characters (merged cells repeated)")
                row.extend([text] * cell_span)
                offset += span
        except GridTooLarge as exc:
            notes.append(f"grid cut to its first {r} of {len(trs)} rows: {exc}")
            break
        rows.append(row)
        width = max(width, len(row))
        above = here
    return [r + [""] * (width - len(r)) for r in rows]


def load_doc(data: bytes, limits: DocumentLimits = DEFAULT_LIMITS) -> Document:
    """Legacy Word: converted to DOCX by LibreOffice when it is installed."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise UnsupportedDocument(".doc (legacy Word) needs LibreOffice (soffice) to convert; not installed")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "input.doc"
        src.write_bytes(data)
        try:
            subprocess.run([soffice, "--headless", "--convert-to", "docx", "--outdir", tmp, str(src)],
                           check=True, capture_output=True, timeout=120)
        except (subprocess.SubprocessError, OSError) as exc:
            raise UnsupportedDocument(f".doc conversion failed: {exc}") from exc
        out = Path(tmp) / "input.docx"
        if not out.exists():
            raise UnsupportedDocument(".doc conversion produced no DOCX")
        doc = load_docx(out.read_bytes(), limits)
    doc.notes.append("converted from .doc with LibreOffice")
    return doc


# ---------------------------------------------------------------- plain text

_CRAWLER_TITLE = re.compile(r"^\s*(?:标题|题目|title)\s*[:：]\s*(.+)$", re.I | re.M)


def load_text(data: bytes, limits: DocumentLimits = DEFAULT_LIMITS) -> Document:
    text = decode_bytes(data)
    _check_decoded_size("text", text, limits)
    if _looks_binary(text):
        raise UnsupportedDocument("input is binary data, not text")
    text = strip_page_markers(text.replace("\r\n", "\n").replace("\r", "\n"))
    doc = Document(kind="text", text=text)
    m = _CRAWLER_TITLE.search(text[:2000])
    doc.title = m.group(1).strip() if m else _first_title_line(text)
    doc.meta = fields_from_text(text)
    return doc
