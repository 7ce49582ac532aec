"""Every input format the readers know, declared once: how an input is recognised and which
reader turns it into a Document.

Detection looks at the bytes first (magic numbers, leading markup), then the file name or the
content type the server sent. A reader is named as "module:function" and imported only when a
document of its kind is read, so that recognising a format costs no library import.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass

from warehouse.parse.documents import DEFAULT_LIMITS, Document, DocumentLimits, UnsupportedDocument


@dataclass(frozen=True)
class Format:
    kind: str                              # Document.kind, and input_kind in the reports dataset
    reader: str                            # "module:function(data, limits) -> Document"
    magic: tuple[bytes, ...] = ()          # leading bytes that prove the kind
    names: tuple[str, ...] = ()            # file-name suffixes and content types that suggest it
    # What a container holds when several formats share its magic (OLE2: "word" for a
    # WordDocument stream, "sheet" for a Workbook/Book stream; zip: a member folder such as
    # "word/" or "xl/"): the bytes choose among them first, the name only breaks ties.
    holds: tuple[str, ...] = ()
    # The names suggest this kind only for bytes that carry one of its magics (a CSV or an
    # HTML table named .xls is read as text or HTML, not refused as a corrupt workbook).
    names_need_magic: bool = False
    # The reader writes the document's text from the same grids it returns (HTML, Word,
    # spreadsheets), so reading the tables again from the text would add nothing; PDF and
    # OCR text comes from its own extraction, which can hold rows a cut grid lost.
    text_renders_grids: bool = False


OLE2 = b"\xd0\xcf\x11\xe0"
ZIP = b"PK\x03\x04"


FORMATS: dict[str, Format] = {f.kind: f for f in (
    Format("pdf", "warehouse.parse.pdf:load_pdf", (b"%PDF",), (".pdf", "application/pdf")),
    # a password-protected .docx/.xlsx is an OLE2 container (EncryptionInfo, EncryptedPackage)
    Format("docx", "warehouse.parse.office:load_docx", (ZIP, OLE2), (".docx", "wordprocessingml"), ("word/",),
           text_renders_grids=True),
    Format("xlsx", "warehouse.parse.spreadsheets:load_xlsx", (ZIP, OLE2), (".xlsx", "spreadsheetml"), ("xl/",),
           names_need_magic=True, text_renders_grids=True),
    Format("doc", "warehouse.parse.word97:load_word97", (OLE2,), (".doc", "msword"), ("word",),
           text_renders_grids=True),
    Format("wps", "warehouse.parse.word97:load_wps", (OLE2,), (".wps", "kswps", "ms-works"), ("word",),
           names_need_magic=True, text_renders_grids=True),
    Format("xls", "warehouse.parse.spreadsheets:load_xls", (OLE2,), (".xls", "ms-excel"), ("sheet",),
           names_need_magic=True, text_renders_grids=True),
    Format("et", "warehouse.parse.spreadsheets:load_et", (OLE2, ZIP), (".et", "kset"), ("sheet", "xl/"),
           names_need_magic=True, text_renders_grids=True),
    # PNG, JPEG, GIF, WebP (RIFF: Pillow refuses a RIFF that is no WebP) read by OCR
    Format("image", "warehouse.parse.images:load_image",
           (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"RIFF"),
           (".png", ".jpg", ".jpeg", ".gif", ".webp", "image/png", "image/jpeg", "image/gif", "image/webp"),
           names_need_magic=True),
    Format("html", "warehouse.parse.documents:load_html", (), (".htm", "text/html", "xhtml"),
           text_renders_grids=True),
    Format("text", "warehouse.parse.documents:load_text"),
)}


_LEADING_HTML = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)[\s>]", re.I | re.S)
_HTML_SNIFF = re.compile(rb"<(!doctype html|html|head|body|table|p|div)[\s>]")


def detect_kind(data: bytes, filename: str = "", content_type: str | None = None) -> str:
    """The kind of FORMATS `data` is: from magic bytes, then the name or content type."""
    head = data[:8]
    hint = f"{filename} {content_type or ''}".lower()
    for magic in dict.fromkeys(m for fmt in FORMATS.values() for m in fmt.magic):
        if head.startswith(magic):
            return _container_kind(data, magic, hint)
    # Markup at the very start is HTML whatever the name says: soft-404 pages answered
    # under a .pdf URL, Word "save as web page" files named .doc.
    if _LEADING_HTML.match(data[:1024]):
        return "html"
    for fmt in FORMATS.values():  # in order: ".docx" is tested before ".doc" matches it
        if not fmt.names_need_magic and any(name in hint for name in fmt.names):
            return fmt.kind
    if _HTML_SNIFF.search(data[:4096].lower()):
        return "html"
    return "text"


def _container_kind(data: bytes, magic: bytes, hint: str) -> str:
    """The kind among the formats sharing `magic`: what the container holds, then the name, then
    the format whose own container it is (DOCX for a zip, Word 97 for an OLE2 file)."""
    candidates = [fmt for fmt in FORMATS.values() if magic in fmt.magic]
    holds = _container_holds(data, magic)
    held = [fmt for fmt in candidates if holds and holds & set(fmt.holds)]
    for group in (held, candidates):
        for fmt in group:  # in order: ".xlsx" is tested before ".xls" matches it
            if any(name in hint for name in fmt.names):
                return fmt.kind
        if group is held and held:
            return held[0].kind
    return next((fmt.kind for fmt in candidates if fmt.magic[0] == magic), candidates[0].kind)


def _container_holds(data: bytes, magic: bytes) -> set[str]:
    """What a zip or OLE2 container holds, from its directory alone (nothing is inflated)."""
    if magic == ZIP:
        import io
        import zipfile

        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return {name.split("/", 1)[0].lower() + "/" for name in archive.namelist()[:10_000] if "/" in name}
        except Exception:  # a corrupt zip: its reader says why
            return set()
    if magic == OLE2:
        from warehouse.parse.ole import ole_kind

        kind = ole_kind(data)
        return {kind} if kind else set()
    return set()


def load_document(data: bytes, filename: str = "", content_type: str | None = None,
                  limits: DocumentLimits = DEFAULT_LIMITS) -> Document:
    """`data` as a Document; UnsupportedDocument (DocumentTooLarge past `limits`) when it cannot be read."""
    if not data or not data.strip():
        raise UnsupportedDocument("empty document")
    kind = detect_kind(data, filename, content_type)
    module, function = FORMATS[kind].reader.split(":")
    reader = getattr(importlib.import_module(module), function)
    try:
        if kind == "html":  # the charset the server declared is the HTML reader's first guess
            return reader(data, content_type, limits)
        return reader(data, limits)
    except UnsupportedDocument:
        raise
    except Exception as exc:  # a reader library choking on hostile input is an unreadable document, not a crash
        raise UnsupportedDocument(f"{kind} cannot be read: {type(exc).__name__}: {exc}") from exc
