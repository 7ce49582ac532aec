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


FORMATS: dict[str, Format] = {f.kind: f for f in (
    Format("pdf", "warehouse.parse.pdf:load_pdf", (b"%PDF",), (".pdf", "application/pdf")),
    Format("docx", "warehouse.parse.office:load_docx", (b"PK\x03\x04",), (".docx", "wordprocessingml")),
    Format("doc", "warehouse.parse.office:load_doc", (b"\xd0\xcf\x11\xe0",), (".doc", "msword")),
    Format("html", "warehouse.parse.documents:load_html", (), (".htm", "text/html", "xhtml")),
    Format("text", "warehouse.parse.documents:load_text"),
)}


_LEADING_HTML = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)[\s>]", re.I | re.S)
_HTML_SNIFF = re.compile(rb"<(!doctype html|html|head|body|table|p|div)[\s>]")


def detect_kind(data: bytes, filename: str = "", content_type: str | None = None) -> str:
    """The kind of FORMATS `data` is: from magic bytes, then the name or content type."""
    head = data[:8]
    for fmt in FORMATS.values():
        if any(head.startswith(magic) for magic in fmt.magic):
            return fmt.kind
    # Markup at the very start is HTML whatever the name says: soft-404 pages answered
    # under a .pdf URL, Word "save as web page" files named .doc.
    if _LEADING_HTML.match(data[:1024]):
        return "html"
    hint = f"{filename} {content_type or ''}".lower()
    for fmt in FORMATS.values():  # in order: ".docx" is tested before ".doc" matches it
        if any(name in hint for name in fmt.names):
            return fmt.kind
    if _HTML_SNIFF.search(data[:4096].lower()):
        return "html"
    return "text"


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
