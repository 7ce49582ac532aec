"""Workbooks (.xls Excel 97 BIFF8, .xlsx, .et WPS Spreadsheets): an OLE2 workbook's Workbook
stream, taken out by olefile under the limits, is read by xlrd (pure Python: a hostile file
ends in an exception, where python-calamine's CFB reader panicked on a truncated .xls); an
.xlsx (or a zip .et) by python-calamine (2.8 ms for a report against openpyxl's 54 ms). Each
worksheet's used range is one table grid, a merged range's value repeated in every cell
it covers (as the HTML/DOCX readers repeat spanned cells), numbers as a sheet shows them
(12.0 is "12"), formulas by their cached values.

Bounds before the work: an .xlsx's zip members (office.check_zip_members), an OLE workbook's
streams (ole.OleReader) and its FILEPASS record (a password-protected .xls/.et); sheets per
workbook and cells per sheet (DocumentLimits.max_sheets, max_sheet_cells), the grid under
TableLimits, the document under TableBudget.
"""
from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile

from warehouse.parse.documents import (DEFAULT_LIMITS, Document, DocumentLimits, Table, TableBudget,
                                       UnsupportedDocument, fields_from_text, first_title_line, tidy_text)
from warehouse.parse.ole import OLE_MAGIC, OleReader

_LABELS = {"xls": "Excel 97 .xls", "xlsx": "Excel .xlsx", "et": "WPS Spreadsheets .et"}
_FILEPASS, _BOF, _EOF, _BOUNDSHEET = 0x002F, 0x0809, 0x000A, 0x0085


def load_xls(data: bytes, limits: DocumentLimits = DEFAULT_LIMITS) -> Document:
    return load_workbook(data, limits, "xls")


def load_xlsx(data: bytes, limits: DocumentLimits = DEFAULT_LIMITS) -> Document:
    return load_workbook(data, limits, "xlsx")


def load_et(data: bytes, limits: DocumentLimits = DEFAULT_LIMITS) -> Document:
    return load_workbook(data, limits, "et")


def load_workbook(data: bytes, limits: DocumentLimits = DEFAULT_LIMITS, kind: str = "xls") -> Document:
    label = _LABELS.get(kind, kind)
    notes: list[str] = []
    if data.startswith(OLE_MAGIC[:4]):
        sheets = _biff_sheets(_ole_workbook_stream(data, label, limits), label, limits, notes)
    elif data.startswith(b"PK\x03\x04"):
        _check_zip_workbook(data, label, limits)
        sheets = _xlsx_sheets(data, label, limits, notes)
    else:
        raise UnsupportedDocument(f"{label} is neither an OLE2 (Excel 97) nor a zip (OOXML) workbook")
    parts: list[str] = []
    tables: list[Table] = []
    budget = TableBudget(limits, notes)
    for name, rows, merged in sheets:
        grid = _grid(rows, merged, limits, notes, name)
        if not grid or not budget.admit(grid):
            continue
        table = Table(index=len(tables) + 1, rows=grid)
        tables.append(table)
        parts += [name, table.as_text()]
    text = tidy_text("\n".join(parts))
    if not text.strip():
        raise UnsupportedDocument(f"{label} has no cells with text or numbers")
    doc = Document(kind=kind, text=text, tables=tables, notes=notes)
    doc.title = _title_cell(tables) or first_title_line(text)
    doc.meta = fields_from_text(text)
    return doc


def _title_cell(tables: list[Table]) -> str | None:
    """The report's title as a sheet prints it: the first cell naming a 报告 (a title row is one
    cell merged across the table, which the grid repeats)."""
    for table in tables[:3]:
        for row in table.rows[:5]:
            for text in row:
                if "报告" in text and len(text) <= 80:
                    return text
    return None


def _ole_workbook_stream(data: bytes, label: str, limits: DocumentLimits) -> bytes:
    reader = OleReader(data, label, limits)
    try:
        name = reader.has("workbook", "book")
        if name is None:
            raise UnsupportedDocument(f"{label} has no Workbook stream (not an Excel 97 workbook)")
        stream = reader.read(name)
    finally:
        reader.close()
    # The globals substream, up to its first BOUNDSHEET or EOF: FILEPASS says the workbook is encrypted.
    at = 0
    while at + 4 <= len(stream):
        record, size = struct.unpack_from("<HH", stream, at)
        if record == _FILEPASS:
            raise UnsupportedDocument(f"{label} is encrypted and needs a password")
        if record in (_BOUNDSHEET, _EOF) or (record == _BOF and at):
            break
        at += 4 + size
    return stream


def _biff_sheets(stream: bytes, label: str, limits: DocumentLimits, notes: list[str]):
    """(name, rows of values, merged ranges) of each worksheet of a BIFF workbook stream."""
    import os

    import xlrd

    try:
        with open(os.devnull, "w") as devnull:
            book = xlrd.open_workbook(file_contents=stream, formatting_info=True, on_demand=True,
                                      logfile=devnull)
    except Exception as exc:
        if "encrypted" in str(exc).lower():
            raise UnsupportedDocument(f"{label} is encrypted and needs a password") from exc
        raise UnsupportedDocument(f"{label} cannot be read (corrupt or truncated): {_reason(exc)}") from exc
    count = book.nsheets
    if count > limits.max_sheets:
        notes.append(f"{count:,} worksheets: only the first {limits.max_sheets:,} are read")
    for i in range(min(count, limits.max_sheets)):
        name = book.sheet_names()[i]
        try:
            sheet = book.sheet_by_index(i)
        except Exception as exc:
            notes.append(f"worksheet {name[:40]} cannot be read: {_reason(exc)}")
            continue
        if sheet.nrows * sheet.ncols > limits.max_sheet_cells:
            notes.append(f"worksheet {name[:40]} spans {sheet.nrows:,} x {sheet.ncols:,} cells"
                         f" (limit {limits.max_sheet_cells:,}): not read")
            continue
        rows = []
        text_types = (xlrd.XL_CELL_TEXT, xlrd.XL_CELL_NUMBER, xlrd.XL_CELL_DATE, xlrd.XL_CELL_BOOLEAN)
        text_set = frozenset(text_types)
        for r in range(sheet.nrows):
            types = sheet.row_types(r)
            if text_set.isdisjoint(types):  # empty or formatted blanks only
                rows.append([])
                continue
            row = sheet.row_values(r)
            for c, t in enumerate(types):
                if t == xlrd.XL_CELL_DATE:
                    try:
                        row[c] = xlrd.xldate_as_datetime(row[c], book.datemode)
                    except Exception:
                        pass
                elif t == xlrd.XL_CELL_BOOLEAN:
                    row[c] = bool(row[c])
                elif t not in text_types:
                    row[c] = ""
            rows.append(row)
        merged = [((r0, c0), (r1 - 1, c1 - 1)) for r0, r1, c0, c1 in sheet.merged_cells]
        yield name, rows, merged
        book.unload_sheet(i)


def _xlsx_sheets(data: bytes, label: str, limits: DocumentLimits, notes: list[str]):
    """(name, rows of values, merged ranges) of each worksheet of an OOXML workbook."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = list(book.sheet_names)
    except BaseException as exc:  # a Rust panic is a BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise UnsupportedDocument(f"{label} cannot be read (corrupt or truncated): {_reason(exc)}") from exc
    if len(names) > limits.max_sheets:
        notes.append(f"{len(names):,} worksheets: only the first {limits.max_sheets:,} are read")
    for name in names[:limits.max_sheets]:
        try:
            sheet = book.get_sheet_by_name(name)
            end = sheet.end or (0, 0)  # the grid is read from A1: its cells are those up to the range's end
            rows, cols = end[0] + 1, end[1] + 1
            if rows * cols > limits.max_sheet_cells:
                notes.append(f"worksheet {name[:40]} spans {rows:,} x {cols:,} cells"
                             f" (limit {limits.max_sheet_cells:,}): not read")
                continue
            values = sheet.to_python(skip_empty_area=False)
            merged = list(getattr(sheet, "merged_cell_ranges", None) or [])
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            notes.append(f"worksheet {name[:40]} cannot be read: {_reason(exc)}")
            continue
        yield name, values, merged


def _check_zip_workbook(data: bytes, label: str, limits: DocumentLimits) -> None:
    from warehouse.parse.office import check_zip_members

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise UnsupportedDocument(f"{label} is a corrupt or truncated zip: {_reason(exc)}") from exc
    check_zip_members(members, limits, label)
    if not any(m.filename.lower().startswith("xl/") for m in members):
        raise UnsupportedDocument(f"{label} is a zip without a workbook (no xl/ part)")


def _grid(values: list[list], merged: list, limits: DocumentLimits, notes: list[str],
          name: str) -> list[list[str]]:
    """The sheet's used range as text cells, merged ranges filled with their first cell's value."""
    rows = [[cell_text(v) for v in row] for row in values]
    if not rows:
        return []
    # a merged range is clamped to the cells the sheet holds (a hostile A1:XFD1048576 fills no more),
    # and all of them fill at most max_sheet_cells
    width = max(map(len, rows))
    budget = limits.max_sheet_cells
    for (r0, c0), (r1, c1) in merged:
        r1, c1 = min(r1, len(rows) - 1), min(c1, width - 1)
        if r0 > r1 or c0 > c1 or r0 < 0 or c0 < 0:
            continue
        budget -= (r1 - r0 + 1) * (c1 - c0 + 1)
        if budget < 0:
            notes.append(f"worksheet {name[:40]}: its merged ranges pass {limits.max_sheet_cells:,} cells;"
                         " later ones are not filled")
            break
        value = rows[r0][c0] if c0 < len(rows[r0]) else ""
        for r in range(r0, r1 + 1):
            row = rows[r]
            if c1 >= len(row):
                row.extend([""] * (c1 + 1 - len(row)))
            row[c0:c1 + 1] = [value] * (c1 - c0 + 1)
    # the used range: rows and columns holding text
    while rows and not any(rows[-1]):
        rows.pop()
    top = next((r for r, row in enumerate(rows) if any(row)), len(rows))
    rows = rows[top:]
    if not rows:
        return []
    width = max((max((c for c, v in enumerate(row) if v), default=-1) for row in rows), default=-1) + 1
    left = min((next((c for c, v in enumerate(row) if v), width) for row in rows), default=0)
    grid = [(row + [""] * (width - len(row)))[left:width] for row in rows]
    cols = max(width - left, 1)
    max_rows = max(limits.tables.max_cells // cols, 1)
    if len(grid) > max_rows:
        notes.append(f"worksheet {name[:40]}: grid cut to its first {max_rows:,} of {len(grid):,} rows"
                     f" ({limits.tables.max_cells:,} cells)")
        grid = grid[:max_rows]
    return grid


def cell_text(value) -> str:
    """A cell's value as the sheet shows it: 12.0 -> "12", 42.5 -> "42.5", a date as YYYY-MM-DD."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        if value.is_integer():
            return str(int(value))
        return repr(round(value, 10))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.timedelta):
        return str(value)
    return " ".join(str(value).split())


def _reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__
