"""Word 97-2003 binary documents (.doc) and WPS Writer documents (.wps, the same format), read
from their OLE streams with olefile: no converter program.

[MS-DOC] in brief: the WordDocument stream starts with the FIB (file information block), which
gives the length of the main text (ccpText) and where the table stream ("0Table"/"1Table") holds
the piece table (Clx: where each run of characters sits, 8-bit or UTF-16) and the paragraph
property pages (PlcBtePapx -> 512-byte PAPX FKPs). A table cell's text ends with \\x07; the
row's end is one more \\x07 paragraph whose properties carry sprmPFTtp and the row's cell edges
and merge flags (sprmTDefTable). The grid repeats a merged cell's text in every position it
covers, as the HTML and DOCX readers do, so warehouse.parse.tables reads it unchanged.
"""
from __future__ import annotations

import re
import struct
from bisect import bisect_right
from dataclasses import dataclass, field

from warehouse.parse.documents import (DEFAULT_LIMITS, Document, DocumentLimits, DocumentTooLarge, Table,
                                       TableBudget, UnsupportedDocument, fields_from_text, first_title_line,
                                       tidy_text)
from warehouse.parse.html_tables import GridTooLarge, TableLimits, check_merged_grid
from warehouse.parse.ole import OleReader

_FIB_IDENT = 0xA5EC
_SPRM_P_IN_TABLE, _SPRM_P_TTP, _SPRM_P_ITAP = 0x2416, 0x2417, 0x6649
_SPRM_T_DEF_TABLE, _SPRM_T_VERT_MERGE, _SPRM_P_HUGE_PAPX = 0xD608, 0xD62B, 0x6646
# anchors of pictures, footnotes, comments and drawn objects, optional hyphens, deleted text (NUL);
# fields (0x13 begin, 0x14 separator, 0x15 end) are read by _clean: their results, not their codes
_DROP = dict.fromkeys(map(ord, "\x00\x01\x02\x03\x04\x05\x08\x1f"), None)
_SPRM_C_RMARK_DEL = 0x0800  # text deleted with track changes on: not shown, not read
_MAP = {0x0B: "\n", 0x0C: "\n", 0x1E: "-", 0xA0: " ", 0x0E: "\n"}


def load_word97(data: bytes, limits: DocumentLimits = DEFAULT_LIMITS, kind: str = "doc") -> Document:
    label = {"doc": "Word 97 .doc", "wps": "WPS Writer .wps"}.get(kind, kind)
    if data[:64].lstrip()[:5] == b"{\\rtf":  # RTF saved under a .doc name: a format of its own
        raise UnsupportedDocument(f"{label} is an RTF document, not Word 97 (RTF is not read)")
    reader = OleReader(data, label, limits)
    try:
        name = reader.has("worddocument")
        if name is None:
            raise UnsupportedDocument(f"{label} has no WordDocument stream (not a Word 97 document)")
        word = reader.read(name)
        fib = _Fib(word, label)
        if fib.encrypted:
            raise UnsupportedDocument(f"{label} is encrypted and needs a password")
        table_name = reader.has("1table" if fib.which_table else "0table")
        if table_name is None:
            raise UnsupportedDocument(f"{label} has no table stream ({'1' if fib.which_table else '0'}Table)")
        table_stream = reader.read(table_name)
        data_name = reader.has("data")  # large paragraph properties (sprmPHugePapx) live there
        data_stream = reader.read(data_name) if data_name else b""
    finally:
        reader.close()
    if fib.ccp_text > limits.max_decoded_chars:
        raise DocumentTooLarge(f"{label} states {fib.ccp_text:,} characters of text (limit {limits.max_decoded_chars:,})")
    pieces = _pieces(table_stream, fib, word, label)
    text = _main_text(word, pieces, fib.ccp_text)
    text = _drop_deleted(text, pieces, _deleted_runs(word, table_stream, fib))
    papx = _PapxIndex(word, table_stream, data_stream, fib)
    notes: list[str] = []
    parts, tables = _blocks(text, pieces, papx, limits, notes)
    body = tidy_text("\n".join(parts))
    if not body.strip():
        raise UnsupportedDocument(f"{label} has no text")
    doc = Document(kind=kind, text=body, tables=tables, notes=notes)
    doc.title = first_title_line(body)
    doc.meta = fields_from_text(body)
    return doc


def load_wps(data: bytes, limits: DocumentLimits = DEFAULT_LIMITS) -> Document:
    return load_word97(data, limits, kind="wps")


# ---------------------------------------------------------------- FIB and piece table

class _Fib:
    def __init__(self, word: bytes, label: str):
        if len(word) < 0x9A + 8 * 34 or struct.unpack_from("<H", word, 0)[0] != _FIB_IDENT:
            raise UnsupportedDocument(f"{label} has no Word 97 file information block (corrupt, or Word 6/95)")
        self.nfib = struct.unpack_from("<H", word, 2)[0]
        flags = struct.unpack_from("<H", word, 0x0A)[0]
        self.encrypted = bool(flags & 0x0100)
        self.which_table = bool(flags & 0x0200)
        if self.nfib < 0x00C1 and not self.encrypted:  # 193: Word 97; older FIBs lay out differently
            raise UnsupportedDocument(f"{label} is a Word 6/95 document (nFib {self.nfib}), not Word 97 or later")
        csw = struct.unpack_from("<H", word, 32)[0]
        at = 34 + 2 * csw
        cslw = struct.unpack_from("<H", word, at)[0]
        lw = at + 2
        self.ccp_text = struct.unpack_from("<i", word, lw + 12)[0]
        at = lw + 4 * cslw
        count = struct.unpack_from("<H", word, at)[0]
        self._pairs_at, self._pairs = at + 2, count
        self._word = word
        if self.ccp_text < 0:
            raise UnsupportedDocument(f"{label} is corrupt: negative text length in its FIB")

    def pair(self, index: int) -> tuple[int, int]:
        if index >= self._pairs:
            return 0, 0
        return struct.unpack_from("<II", self._word, self._pairs_at + 8 * index)


@dataclass
class _Piece:
    cp: int           # first character position
    cp_end: int
    offset: int       # byte offset in WordDocument
    compressed: bool  # 8-bit (cp1252) rather than UTF-16LE

    def fc(self, cp: int) -> int:
        return self.offset + (cp - self.cp) * (1 if self.compressed else 2)


def _pieces(table: bytes, fib: _Fib, word: bytes, label: str) -> list[_Piece]:
    fc, lcb = fib.pair(33)  # fcClx / lcbClx
    clx = table[fc:fc + lcb]
    if len(clx) < lcb or lcb == 0:
        raise UnsupportedDocument(f"{label} is corrupt or truncated: its piece table is missing")
    at = 0
    while at < len(clx) and clx[at] == 0x01:  # Prc: property modifiers of fast saves, skipped
        at += 3 + struct.unpack_from("<H", clx, at + 1)[0]
    if at + 5 > len(clx) or clx[at] != 0x02:
        raise UnsupportedDocument(f"{label} is corrupt: its piece table cannot be read")
    size = struct.unpack_from("<I", clx, at + 1)[0]
    plc = clx[at + 5:at + 5 + size]
    n = (len(plc) - 4) // 12
    if n < 1:
        raise UnsupportedDocument(f"{label} is corrupt: its piece table is empty")
    cps = struct.unpack_from(f"<{n + 1}i", plc, 0)
    pieces = []
    for i in range(n):
        raw = struct.unpack_from("<I", plc, 4 * (n + 1) + 8 * i + 2)[0]
        compressed = bool(raw & 0x40000000)
        offset = (raw & 0x3FFFFFFF) // 2 if compressed else raw & 0x3FFFFFFF
        if cps[i + 1] > cps[i]:
            pieces.append(_Piece(cps[i], cps[i + 1], offset, compressed))
    return pieces


def _main_text(word: bytes, pieces: list[_Piece], ccp_text: int) -> str:
    out = []
    for piece in pieces:
        if piece.cp >= ccp_text:
            break
        count = min(piece.cp_end, ccp_text) - piece.cp
        if piece.compressed:
            chunk = word[piece.offset:piece.offset + count].decode("cp1252", errors="replace")
        else:
            chunk = word[piece.offset:piece.offset + 2 * count].decode("utf-16-le", errors="replace")
        out.append(chunk.ljust(count, "\ufffd"))  # a piece cut short keeps positions aligned
    return "".join(out)


def _deleted_runs(word: bytes, table: bytes, fib: _Fib) -> list[tuple[int, int]]:
    """Byte ranges of WordDocument whose character properties (CHPX FKPs) mark them deleted
    (a tracked deletion: a revised figure keeps its old digits in the text stream, "29" then
    "31", and Word shows only "31")."""
    fc, lcb = fib.pair(12)  # fcPlcfBteChpx / lcbPlcfBteChpx
    plc = table[fc:fc + lcb]
    n = (len(plc) - 4) // 8
    runs: list[tuple[int, int]] = []
    cache: dict[bytes, bool] = {}
    for i in range(max(n, 0)):
        pn = struct.unpack_from("<I", plc, 4 * (n + 1) + 4 * i)[0] & 0x3FFFFF
        page = word[pn * 512:(pn + 1) * 512]
        if len(page) < 512:
            continue
        crun = page[511]
        if 5 * crun + 4 > 511:
            continue
        fcs = struct.unpack_from(f"<{crun + 1}I", page, 0)
        for r in range(crun):
            b = page[4 * (crun + 1) + r]
            if not b:
                continue
            grpprl = page[2 * b + 1:2 * b + 1 + page[2 * b]]
            deleted = cache.get(grpprl)
            if deleted is None:
                deleted = cache[grpprl] = any(sprm == _SPRM_C_RMARK_DEL and operand and operand[0] in (1, 0x81)
                                              for sprm, operand in _sprms(grpprl))
            if deleted:
                runs.append((fcs[r], fcs[r + 1]))
    return runs


def _drop_deleted(text: str, pieces: list[_Piece], runs: list[tuple[int, int]]) -> str:
    """`text` with deleted characters as NUL (dropped by _clean), positions kept; paragraph and
    cell marks stay, so the table's structure does not move."""
    if not runs:
        return text
    spans = []
    for piece in pieces:
        if piece.cp >= len(text):
            break
        width = 1 if piece.compressed else 2
        start, end = piece.offset, piece.offset + (piece.cp_end - piece.cp) * width
        for a, b in runs:
            if a < end and b > start:
                cp_a = piece.cp + (max(a, start) - start) // width
                cp_b = piece.cp + (min(b, end) - start + width - 1) // width
                spans.append((cp_a, min(cp_b, len(text))))
    chars = list(text)
    done = 0  # spans in order, each character visited once however the runs overlap
    for a, b in sorted(spans):
        for i in range(max(a, done), b):
            if chars[i] not in "\r\x07":
                chars[i] = "\x00"
        done = max(done, b)
    return "".join(chars)


# ---------------------------------------------------------------- paragraph properties

def _sprms(grpprl: bytes):
    """(sprm, operand) pairs of a grpprl."""
    i, end = 0, len(grpprl)
    while i + 2 <= end:
        sprm = struct.unpack_from("<H", grpprl, i)[0]
        i += 2
        spra = sprm >> 13
        if spra in (0, 1):
            n = 1
        elif spra in (2, 4, 5):
            n = 2
        elif spra == 3:
            n = 4
        elif spra == 7:
            n = 3
        elif sprm == _SPRM_T_DEF_TABLE:  # a 2-byte length, one more than the bytes that follow it
            if i + 2 > end:
                return
            cb = struct.unpack_from("<H", grpprl, i)[0]
            yield sprm, grpprl[i + 2:i + 1 + cb]
            i += cb + 1
            continue
        else:
            if i >= end:
                return
            n = grpprl[i]
            yield sprm, grpprl[i + 1:i + 1 + n]
            i += 1 + n
            continue
        yield sprm, grpprl[i:i + n]
        i += n


@dataclass
class _Para:
    in_table: bool = False
    ttp: bool = False
    depth: int = 0
    centers: list[int] = field(default_factory=list)
    vmerge: list[int] = field(default_factory=list)
    hmerge: list[int] = field(default_factory=list)


_PLAIN = _Para()


class _PapxIndex:
    """Paragraph properties by the byte offset of a paragraph's last character."""

    def __init__(self, word: bytes, table: bytes, data: bytes, fib: _Fib):
        self.data = data
        fc, lcb = fib.pair(13)  # fcPlcfBtePapx / lcbPlcfBtePapx
        plc = table[fc:fc + lcb]
        n = (len(plc) - 4) // 8
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.props: list[bytes] = []
        self._cache: dict[bytes, _Para] = {}
        if n < 1:
            return
        for i in range(n):
            pn = struct.unpack_from("<I", plc, 4 * (n + 1) + 4 * i)[0] & 0x3FFFFF
            page = word[pn * 512:(pn + 1) * 512]
            if len(page) < 512:
                continue
            crun = page[511]
            if 4 * (crun + 1) + 13 * crun > 511:
                continue
            fcs = struct.unpack_from(f"<{crun + 1}I", page, 0)
            for r in range(crun):
                b = page[4 * (crun + 1) + 13 * r]
                grpprl = b""
                if b:
                    at = 2 * b
                    cb = page[at]
                    if cb == 0:
                        size, at = 2 * page[at + 1], at + 2
                    else:
                        size, at = 2 * cb - 1, at + 1
                    grpprl = page[at + 2:at + size]  # after istd
                self.starts.append(fcs[r])
                self.ends.append(fcs[r + 1])
                self.props.append(grpprl)
        order = sorted(range(len(self.starts)), key=self.starts.__getitem__)
        self.starts = [self.starts[i] for i in order]
        self.ends = [self.ends[i] for i in order]
        self.props = [self.props[i] for i in order]

    def at(self, fc: int) -> _Para:
        i = bisect_right(self.starts, fc) - 1
        if i < 0 or fc >= self.ends[i]:
            return _PLAIN
        grpprl = self.props[i]
        para = self._cache.get(grpprl)
        if para is None:
            para = self._cache[grpprl] = _para(grpprl, self.data)
        return para


def _para(grpprl: bytes, data: bytes = b"") -> _Para:
    para = _Para()
    for sprm, operand in _sprms(grpprl):
        if sprm == _SPRM_P_HUGE_PAPX and len(operand) == 4:  # the properties are in the Data stream
            at = struct.unpack_from("<I", operand)[0]
            if at + 2 <= len(data):
                size = struct.unpack_from("<H", data, at)[0]
                huge = _para(data[at + 2:at + 2 + size])
                para.in_table |= huge.in_table
                para.ttp |= huge.ttp
                para.depth = max(para.depth, huge.depth)
                para.centers, para.vmerge, para.hmerge = (huge.centers or para.centers, huge.vmerge or para.vmerge,
                                                          huge.hmerge or para.hmerge)
            continue
        if not operand:
            continue
        if sprm == _SPRM_P_IN_TABLE:
            para.in_table = bool(operand[0])
        elif sprm == _SPRM_P_TTP:
            para.ttp = bool(operand[0])
        elif sprm == _SPRM_P_ITAP and len(operand) >= 4:
            para.depth = struct.unpack_from("<i", operand)[0]
        elif sprm == _SPRM_T_DEF_TABLE and len(operand) >= 1:
            count = operand[0]
            if len(operand) < 1 + 2 * (count + 1):
                continue
            para.centers = list(struct.unpack_from(f"<{count + 1}h", operand, 1))
            at = 1 + 2 * (count + 1)
            tcs = (len(operand) - at) // 20
            flags = [struct.unpack_from("<H", operand, at + 20 * i)[0] for i in range(min(tcs, count))]
            flags += [0] * (count - len(flags))
            para.hmerge = [f & 0x3 for f in flags]
            para.vmerge = [(f >> 5) & 0x3 for f in flags]
        elif sprm == _SPRM_T_VERT_MERGE and len(operand) >= 2 and operand[0] < len(para.vmerge):
            para.vmerge[operand[0]] = operand[1]
    if para.in_table and para.depth == 0:
        para.depth = 1
    return para


# ---------------------------------------------------------------- paragraphs, rows and grids

_MARKS = re.compile("[\r\x07]")


def _clean(text: str) -> str:
    """A paragraph's visible text: field codes dropped (their results kept), marks mapped."""
    if "\x13" in text:
        out, stack = [], []
        for ch in text:
            if ch == "\x13":
                stack.append(True)        # in the field's instructions
            elif ch == "\x14":
                if stack:
                    stack[-1] = False     # the field's result follows
            elif ch == "\x15":
                if stack:
                    stack.pop()
            elif not any(stack):
                out.append(ch)
        text = "".join(out)
    return re.sub(r"\s+", " ", text.translate(_DROP).translate(_MAP)).strip()


def _blocks(text: str, pieces: list[_Piece], papx: _PapxIndex, limits: DocumentLimits,
            notes: list[str]) -> tuple[list[str], list[Table]]:
    starts = [p.cp for p in pieces]
    parts: list[str] = []
    tables: list[Table] = []
    budget = TableBudget(limits, notes)
    rows: list[tuple[list[str], _Para]] = []   # the table being read: cell texts and row properties
    cells: list[str] = []
    cell: list[str] = []

    def flush() -> None:
        nonlocal rows
        if not rows:
            return
        table_notes: list[str] = []
        grid = _grid(rows, limits.tables, table_notes)
        if table_notes:
            notes.append(f"table {len(tables) + 1}: " + "; ".join(dict.fromkeys(table_notes)))
        rows = []
        if grid and budget.admit(grid):
            table = Table(index=len(tables) + 1, rows=grid)
            tables.append(table)
            parts.append(table.as_text())

    pos = 0
    for m in _MARKS.finditer(text):
        cp = m.start()
        para_text = text[pos:cp]
        pos = cp + 1
        piece = pieces[max(0, bisect_right(starts, cp) - 1)]
        props = papx.at(piece.fc(cp))
        if props.depth >= 1 or props.in_table or m.group() == "\x07":
            if props.ttp:             # the row's end mark: its properties give the cell edges
                if cell:
                    cells.append(" ".join(cell))
                rows.append((cells, props))
                cells, cell = [], []
                continue
            piece_text = _clean(para_text)
            if piece_text:
                cell.append(piece_text)
            if m.group() == "\x07" and props.depth <= 1:   # the cell's end
                cells.append(" ".join(cell))
                cell = []
            continue
        if cells or cell:  # cells without a row end: a row of its own
            rows.append((cells + ([" ".join(cell)] if cell else []), _PLAIN))
            cells, cell = [], []
        flush()
        line = _clean(para_text)
        if line:
            parts.append(line)
    if cells or cell:
        rows.append((cells + ([" ".join(cell)] if cell else []), _PLAIN))
    flush()
    return parts, tables


def _grid(rows: list[tuple[list[str], _Para]], limits: TableLimits, notes: list[str]) -> list[list[str]]:
    """Rows of cells on the table's column edges: a cell spanning several edges repeats its text,
    a vertically merged cell repeats the text of the cell starting the merge."""
    edges = sorted({x for _, props in rows for x in props.centers})
    merged: list[int] = []
    for x in edges:  # edges a few twips apart are one edge
        if not merged or x - merged[-1] > 20:
            merged.append(x)
    grid: list[list[str]] = []
    width = chars = 0
    above: dict[int, str] = {}
    for r, (cells, props) in enumerate(rows):
        row: list[str] = []
        here: dict[int, str] = {}
        centers = props.centers
        try:
            for i, text in enumerate(cells):
                if i + 1 < len(centers):
                    left = _edge(merged, centers[i])
                    span = max(1, _edge(merged, centers[i + 1]) - left)
                    vmerge = props.vmerge[i] if i < len(props.vmerge) else 0
                    hmerge = props.hmerge[i] if i < len(props.hmerge) else 0
                else:
                    left, span, vmerge, hmerge = len(row), 1, 0, 0
                if span > limits.max_colspan:
                    notes.append(f"cell span {span} read as {limits.max_colspan}")
                    span = limits.max_colspan
                left = max(left, len(row))
                if vmerge == 1 and left in above:     # continues the merge started above
                    text = above[left]
                elif hmerge >= 2 and row:             # merged into the cell before it (old-style)
                    text = row[-1]
                row.extend([""] * (left - len(row)))
                chars += len(text) * span
                check_merged_grid(r + 1, max(width, left + span), chars, limits)
                for c in range(left, left + span):
                    here[c] = text
                row.extend([text] * span)
        except GridTooLarge as exc:
            notes.append(f"grid cut to its first {r} of {len(rows)} rows: {exc}")
            break
        grid.append(row)
        width = max(width, len(row))
        above = here
    return [row + [""] * (width - len(row)) for row in grid]


def _edge(edges: list[int], x: int) -> int:
    i = bisect_right(edges, x + 20) - 1
    return max(i, 0)
