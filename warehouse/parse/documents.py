"""Load any input (HTML, PDF, DOCX, DOC, text) into a Document: text plus table grids.

The kind is detected from magic bytes first, then the file name or content type.
`Document.text` is the visible text in reading order with each table rendered
one row per line, cells separated by ' | ', so that text-level detectors (era,
year) see the tables too.
"""
from __future__ import annotations

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

from warehouse.parse.html_tables import cell_text, table_grid
from warehouse.parse.textnorm import NormText, normalise_text

CELL_SEP = " | "


class UnsupportedDocument(Exception):
    """The input cannot be read (e.g. .doc without a converter, image-only, corrupt)."""


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


def load_document(data: bytes, filename: str = "", content_type: str | None = None) -> Document:
    if not data or not data.strip():
        raise UnsupportedDocument("empty document")
    kind = detect_kind(data, filename, content_type)
    try:
        if kind == "html":
            return load_html(data, content_type)
        return {"pdf": load_pdf, "docx": load_docx, "doc": load_doc, "text": load_text}[kind](data)
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


def load_html(data: bytes, content_type: str | None = None) -> Document:
    from lxml import html as lxml_html

    m = _DECLARED_CHARSET.search(data[:4096]) or _DECLARED_CHARSET.search((content_type or "").encode("latin-1", "replace"))
    declared = m.group(1).decode("ascii") if m else None
    markup, used = decode_text(data, declared)
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
    text = _html_visible_text(root, tables, notes)
    doc = Document(kind="html", text=text, tables=tables, notes=notes)
    doc.meta = _html_meta(root, text)
    doc.title = _html_title(root, doc.meta)
    return doc


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


def _html_visible_text(root, tables: list[Table], notes: list[str] | None = None) -> str:
    """Walk the tree: block elements start lines; each table becomes its rows as lines."""
    parts: list[str] = []
    notes = notes if notes is not None else []

    def grid_of(table) -> list[list[str]]:
        span_notes: list[str] = []
        grid = table_grid(table, span_notes)
        if span_notes:
            notes.append(f"table {len(tables) + 1}: " + "; ".join(dict.fromkeys(span_notes)))
        return grid

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


def load_pdf(data: bytes) -> Document:
    import pdfplumber

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfminer raises many types for broken/encrypted files
        raise UnsupportedDocument(f"PDF cannot be read: {_describe_pdf_error(exc)}") from exc
    texts, tables = [], []
    try:
        for number, page in enumerate(pdf.pages, start=1):
            texts.append(page.extract_text() or "")
            for found in page.find_tables({"vertical_strategy": "lines", "horizontal_strategy": "lines"}):
                grid = pdf_table_grid(page, found.cells)
                if grid and len(grid[0]) > 1:  # a one-column "table" is a frame drawn around prose
                    tables.append(Table(index=len(tables) + 1, rows=grid, page=number))
    except Exception as exc:
        raise UnsupportedDocument(f"PDF cannot be read: {_describe_pdf_error(exc)}") from exc
    finally:
        pdf.close()
    text = strip_page_markers("\n".join(texts))
    if not text.strip():
        raise UnsupportedDocument("PDF has no text layer (scanned images or empty)")
    table_text = "\n\n".join(t.as_text() for t in tables)
    doc = Document(kind="pdf", text=text + ("\n\n" + table_text if table_text else ""), tables=tables)
    doc.title = _first_title_line(text)
    doc.meta = fields_from_text(text)
    return doc


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
    return min(range(len(edges)), key=lambda i: abs(edges[i] - value))


def pdf_table_grid(page, cells: list[tuple]) -> list[list[str]]:
    """A grid from the cell boxes pdfplumber found: a merged cell covers several
    column/row bands and its text is repeated in each of them."""
    if not cells:
        return []
    xs = _snap([c[0] for c in cells] + [c[2] for c in cells])
    ys = _snap([c[1] for c in cells] + [c[3] for c in cells])
    grid = [["" for _ in range(len(xs) - 1)] for _ in range(len(ys) - 1)]
    own_rows: set[int] = set()  # row bands that some cell occupies alone
    for x0, top, x1, bottom in cells:
        text = page.within_bbox((x0, top, x1, bottom), relative=False, strict=False).extract_text() or ""
        text = re.sub(r"\s+", " ", text.replace("\n", "")).strip()
        first, last = _position(ys, top), _position(ys, bottom)
        if last - first == 1:
            own_rows.add(first)
        for r in range(first, last):
            for c in range(_position(xs, x0), _position(xs, x1)):
                grid[r][c] = text
    # A row of blank cells is a row of the table (its zeros); an empty band that only
    # exists because two merged cells' edges are slightly misaligned is not.
    rows = [row for r, row in enumerate(grid) if any(row) or r in own_rows]
    return rows if any(any(row) for row in rows) else []


def _first_title_line(text: str) -> str | None:
    for line in text.splitlines()[:15]:
        if "报告" in line or "年度" in line:
            return line.strip()
    return None


# ---------------------------------------------------------------- DOCX / DOC

def load_docx(data: bytes) -> Document:
    import docx

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise UnsupportedDocument("DOCX input is not a zip archive")
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise UnsupportedDocument(f"DOCX cannot be read: {type(exc).__name__}: {exc}") from exc
    parts, tables = [], []
    for block in _docx_blocks(document):
        if isinstance(block, list):
            table = Table(index=len(tables) + 1, rows=block)
            tables.append(table)
            parts.append(table.as_text())
        elif block.strip():
            parts.append(block.strip())
    text = "\n".join(parts)
    if not text.strip():
        raise UnsupportedDocument("DOCX has no text")
    doc = Document(kind="docx", text=text, tables=tables)
    doc.title = (document.core_properties.title or "").strip() or _first_title_line(text)
    doc.meta = fields_from_text(text)
    return doc


def _docx_blocks(document):
    """Paragraph texts and table grids in body order."""
    from docx.table import Table as DocxTable
    from docx.text.paragraph import Paragraph

    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            yield Paragraph(child, document).text
        elif tag == "tbl":
            yield _docx_grid(DocxTable(child, document))


def _docx_grid(table) -> list[list[str]]:
    """python-docx repeats a merged cell in every position it covers (horizontal and vertical)."""
    rows = []
    for row in table.rows:
        rows.append([re.sub(r"\s+", " ", cell.text).strip() for cell in row.cells])
    width = max((len(r) for r in rows), default=0)
    return [r + [""] * (width - len(r)) for r in rows]


def load_doc(data: bytes) -> Document:
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
        doc = load_docx(out.read_bytes())
    doc.notes.append("converted from .doc with LibreOffice")
    return doc


# ---------------------------------------------------------------- plain text

_CRAWLER_TITLE = re.compile(r"^\s*(?:标题|题目|title)\s*[:：]\s*(.+)$", re.I | re.M)


def load_text(data: bytes) -> Document:
    text = decode_bytes(data)
    if _looks_binary(text):
        raise UnsupportedDocument("input is binary data, not text")
    text = strip_page_markers(text.replace("\r\n", "\n").replace("\r", "\n"))
    doc = Document(kind="text", text=text)
    m = _CRAWLER_TITLE.search(text[:2000])
    doc.title = m.group(1).strip() if m else _first_title_line(text)
    doc.meta = fields_from_text(text)
    return doc
