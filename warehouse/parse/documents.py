"""Load any input (HTML, PDF, DOCX, text) into a Document: text plus table grids.

STUB — to be replaced by the full implementation.
"""
from __future__ import annotations

from dataclasses import dataclass, field


class UnsupportedDocument(Exception):
    """The input cannot be read (e.g. .doc without a converter, image-only, corrupt)."""


@dataclass
class Table:
    index: int                 # 1-based position among the document's tables
    rows: list[list[str]]      # grid with row/col spans expanded (a spanned cell repeats its text)


@dataclass
class Document:
    kind: str                  # html | pdf | docx | text
    text: str                  # visible text in reading order
    tables: list[Table] = field(default_factory=list)
    title: str | None = None   # <title>, first heading, or crawler header title
    meta: dict[str, str] = field(default_factory=dict)  # page metadata, e.g. 发布机构, 发布日期
    notes: list[str] = field(default_factory=list)


def load_document(data: bytes, filename: str = "", content_type: str | None = None) -> Document:
    return Document(kind="text", text=data.decode("utf-8", errors="replace"))
