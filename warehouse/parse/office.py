"""Office readers: DOCX (python-docx, zip members bounded before inflating) and legacy Word
(warehouse.parse.word97, no converter program); workbooks are in warehouse.parse.spreadsheets."""
from __future__ import annotations

import io
import re
import zipfile

from warehouse.parse.documents import (DEFAULT_LIMITS, Document, DocumentLimits, DocumentTooLarge, Table,
                                       TableBudget, UnsupportedDocument, fields_from_text, first_title_line)
from warehouse.parse.html_tables import GridTooLarge, TableLimits, check_merged_grid

def load_docx(data: bytes, limits: DocumentLimits = DEFAULT_LIMITS) -> Document:
    import docx

    if data.startswith(b"\xd0\xcf\x11\xe0"):  # a password-protected DOCX is an OLE2 container
        from warehouse.parse.ole import OleReader

        OleReader(data, "DOCX", limits).close()  # says "encrypted and needs a password" when it is
        raise UnsupportedDocument("DOCX input is an OLE2 file, not a zip archive")
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
    budget = TableBudget(limits, notes)
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
    doc.title = (document.core_properties.title or "").strip() or first_title_line(text)
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
                chars += len(text) * cell_span
                check_merged_grid(r + 1, max(width, len(row) + cell_span), chars, limits)
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
    """Legacy Word (Word 97-2003 .doc): read from its OLE streams by warehouse.parse.word97."""
    from warehouse.parse.word97 import load_word97

    return load_word97(data, limits)
