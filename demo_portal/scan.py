"""Reports as images and spreadsheets (issue 14): what county and township portals often publish.

- `scanned_pdf(title, blocks, fmt, rng)`: the report printed on A4 pages at 200 dpi and "scanned": a
  slight rotation (under 1 degree), mild blur, specks, JPEG compression, embedded into a PDF with
  Pillow (no text layer).
- `table_image(grid, fmt, label_widths, rng, kind)`: one table as a PNG or JPEG, for a 图片版 page
  whose tables are <img>s.
- `tables_xlsx(title, blocks, fmt)`: the tables of a report in an .xlsx workbook (one sheet per
  table, merged cells as printed, figures as numbers), written as SpreadsheetML directly.

Rendering Chinese needs a font with CJK glyphs: $DEMO_PORTAL_CJK_FONT, else the Debian package
fonts-wqy-zenhei (/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc) or another CJK font Debian installs.
Everything is deterministic: noise comes from the caller's random.Random, the PDF and the workbook
carry fixed dates.
"""
from __future__ import annotations

import io
import os
import random
import re
import time
import zipfile
from functools import lru_cache
from pathlib import Path

from demo_portal.tables import Cell, NumberFormat, cell_text, layout

FONT_ENV = "DEMO_PORTAL_CJK_FONT"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)
DPI = 200
PAGE = (1654, 2339)           # A4 at 200 dpi
MARGIN = 150
PX_PER_MM = DPI / 25.4
FIXED_DATE = time.strptime("2024-01-01", "%Y-%m-%d")
ZIP_DATE = (2024, 1, 1, 0, 0, 0)


class FontMissing(RuntimeError):
    """No font with Chinese glyphs: the image-only reports cannot be drawn."""


@lru_cache(maxsize=1)
def cjk_font_path() -> str:
    """The CJK font file to draw with; FontMissing (one line) when there is none."""
    from PIL import ImageFont

    candidates = ([os.environ[FONT_ENV]] if os.environ.get(FONT_ENV) else []) + list(FONT_CANDIDATES)
    for path in candidates:
        if Path(path).is_file():
            try:
                font = ImageFont.truetype(path, 24)
            except OSError:
                continue
            if font.getmask("政府信息公开").getbbox():
                return path
    raise FontMissing(f"no font with Chinese glyphs for the demo's image-only reports: install the Debian package "
                      f"fonts-wqy-zenhei, or set {FONT_ENV} to a .ttf/.ttc with CJK glyphs")


@lru_cache(maxsize=8)
def font(size: int):
    from PIL import ImageFont

    return ImageFont.truetype(cjk_font_path(), size)


# ---------------------------------------------------------------- drawing

def wrap(text: str, fnt, width: int) -> list[str]:
    """Lines of at most `width` pixels (Chinese breaks anywhere; digits kept together where they fit)."""
    lines, line = [], ""
    for ch in text:
        if line and fnt.getlength(line + ch) > width:
            lines.append(line)
            line = ""
        line += ch
    return lines + ([line] if line else [])


def grid_image(grid: list[list[Cell]], fmt: NumberFormat, label_widths_mm: list[float], width: int,
               size: int = 22):
    """A ruled table as a white 'L' image `width` pixels wide."""
    from PIL import Image, ImageDraw

    fnt, pad, leading = font(size), 6, size + 6
    placed = layout(grid)
    ncols = max(c + cell.colspan for _, c, cell in placed)
    nrows = len(grid)
    labels = [w * PX_PER_MM for w in label_widths_mm]
    rest = (width - 1 - sum(labels)) / max(1, ncols - len(labels))
    col_w = [int(w) for w in labels] + [int(rest)] * (ncols - len(labels))
    xs = [0]
    for w in col_w:
        xs.append(xs[-1] + w)
    texts = {}
    for r, c, cell in placed:
        text = cell_text(cell, fmt).replace("&nbsp;", "")
        span_w = xs[c + cell.colspan] - xs[c] - 2 * pad
        texts[(r, c)] = wrap(text, fnt, max(span_w, size))
    heights = [leading + 2 * pad] * nrows
    for r, c, cell in placed:  # single-row cells set their row's height
        if cell.rowspan == 1:
            heights[r] = max(heights[r], len(texts[(r, c)]) * leading + 2 * pad)
    for r, c, cell in placed:  # a spanning cell taller than its rows stretches the last one
        need = len(texts[(r, c)]) * leading + 2 * pad
        have = sum(heights[r:r + cell.rowspan])
        if need > have:
            heights[r + cell.rowspan - 1] += need - have
    ys = [0]
    for h in heights:
        ys.append(ys[-1] + h)
    img = Image.new("L", (xs[-1] + 1, ys[-1] + 1), 255)
    draw = ImageDraw.Draw(img)
    for r, c, cell in placed:
        x0, y0, x1, y1 = xs[c], ys[r], xs[c + cell.colspan], ys[r + cell.rowspan]
        draw.rectangle((x0, y0, x1, y1), outline=0, width=2)
        lines = texts[(r, c)]
        top = y0 + (y1 - y0 - len(lines) * leading) / 2 + 3
        for i, line in enumerate(lines):
            draw.text(((x0 + x1) / 2, top + i * leading), line, font=fnt, fill=0, anchor="ma")
    return img


def page_images(title: str, blocks: list[tuple[str, object]], fmt: NumberFormat) -> list:
    """The report laid out on A4 pages: title, headings, paragraphs, tables (a table starts a new page
    when it does not fit the rest of one)."""
    from PIL import Image, ImageDraw

    width = PAGE[0] - 2 * MARGIN
    pages = [Image.new("L", PAGE, 255)]
    y = MARGIN

    def room(height: int) -> None:
        nonlocal y
        if y + height > PAGE[1] - MARGIN and y > MARGIN:
            pages.append(Image.new("L", PAGE, 255))
            y = MARGIN

    def text_block(text: str, size: int, indent: int, center: bool = False, gap: int = 10) -> None:
        nonlocal y
        fnt = font(size)
        lines = wrap(text, fnt, width - indent)
        for i, line in enumerate(lines):
            room(size + 14)
            draw = ImageDraw.Draw(pages[-1])
            if center:
                draw.text((PAGE[0] / 2, y), line, font=fnt, fill=0, anchor="ma")
            else:
                draw.text((MARGIN + (indent if i == 0 else 0), y), line, font=fnt, fill=0)
            y += size + 14
        y += gap

    text_block(title, 40, 0, center=True, gap=30)
    for kind, content in blocks:
        if kind == "heading":
            text_block(content, 30, 0, gap=6)
        elif kind == "para":
            text_block(content, 28, 56)
        else:
            grid, label_widths = content
            table = grid_image(grid, fmt, label_widths, width)
            room(table.height)
            pages[-1].paste(table, (MARGIN, y))
            y += table.height + 24
    return pages


def scan_noise(img, rng: random.Random):
    """A scanner's look: paper tone, a few specks, a slight rotation (under 1 degree), mild blur."""
    from PIL import ImageDraw, ImageFilter

    img = img.point(lambda v: 238 if v == 255 else v)      # off-white paper
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randint(150, 300)):
        x, y = rng.randrange(img.width), rng.randrange(img.height)
        r = rng.choice((1, 1, 1, 2))
        draw.ellipse((x, y, x + r, y + r), fill=rng.randint(120, 200))
    img = img.rotate(rng.uniform(0.25, 0.8) * rng.choice((-1, 1)), resample=2, fillcolor=238)
    return img.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 0.9)))


def _jpeg(img, quality: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, optimize=False)
    return buf.getvalue()


def scanned_pdf(title: str, blocks: list[tuple[str, object]], fmt: NumberFormat, rng: random.Random) -> bytes:
    """An image-only PDF: every page a noisy JPEG at 200 dpi."""
    scans = [scan_noise(page, rng) for page in page_images(title, blocks, fmt)]
    buf = io.BytesIO()  # Pillow stores 'L' pages as JPEG (DCTDecode): the compression artefacts of a scan
    scans[0].save(buf, "PDF", save_all=True, append_images=scans[1:], resolution=float(DPI), title=None,
                  creationDate=FIXED_DATE, modDate=FIXED_DATE, producer="Scanner", quality=rng.randint(55, 70))
    return buf.getvalue()


def table_image(grid: list[list[Cell]], fmt: NumberFormat, label_widths_mm: list[float], rng: random.Random,
                kind: str = "png") -> bytes:
    """One table of a 图片版 page: a PNG as exported, or a JPEG (mildly blurred, compressed) as re-saved."""
    img = grid_image(grid, fmt, label_widths_mm, 1300, size=20)
    if kind == "png":
        buf = io.BytesIO()
        img.save(buf, "PNG", optimize=False)
        return buf.getvalue()
    from PIL import ImageFilter

    return _jpeg(img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.6))), rng.randint(60, 75))


# ---------------------------------------------------------------- spreadsheet

_XLSX_STATIC = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '{sheets}</Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="宋体"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
        '</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
        '<alignment horizontal="center" vertical="center" wrapText="1"/></xf></cellXfs>'
        '<cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
}


def _column(n: int) -> str:
    """1 -> A, 27 -> AA."""
    name = ""
    while n:
        n, rem = divmod(n - 1, 26)
        name = chr(65 + rem) + name
    return name


def _sheet_xml(rows: dict[int, dict[int, object]], merges: list[str]) -> str:
    from xml.sax.saxutils import escape

    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>']
    for r in sorted(rows):
        out.append(f'<row r="{r}">')
        for c in sorted(rows[r]):
            value, ref = rows[r][c], f"{_column(c)}{r}"
            if isinstance(value, (int, float)):
                out.append(f'<c r="{ref}" s="1"><v>{value}</v></c>')
            else:
                out.append(f'<c r="{ref}" s="1" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>')
        out.append("</row>")
    out.append("</sheetData>")
    if merges:
        out.append(f'<mergeCells count="{len(merges)}">' + "".join(f'<mergeCell ref="{m}"/>' for m in merges)
                   + "</mergeCells>")
    return "".join(out) + "</worksheet>"


def tables_xlsx(title: str, blocks: list[tuple[str, object]], fmt: NumberFormat) -> bytes:
    """The report's tables in a workbook: per table a sheet named after its section with the report's title, the
    section heading and the grid (merged cells as printed; figures as numbers, zero cells as the report
    prints them). Written as SpreadsheetML by hand: fixed bytes, no openpyxl import on every generate."""
    from xml.sax.saxutils import escape

    sheets, headings, heading = [], [], ""
    for kind, content in blocks:
        if kind == "heading":
            heading = content
        elif kind == "table":
            rows: dict[int, dict[int, object]] = {1: {1: title}, 2: {1: heading}}
            merges = []
            for r, c, cell in layout(content[0]):
                row, col = r + 3, c + 1
                value = cell_text(cell, fmt).replace("&nbsp;", "") or None
                if cell.fact is not None and cell.fact.value:
                    value = cell.fact.value
                    value = int(value) if float(value).is_integer() and cell.fact.unit is None else value
                elif cell.fact is not None and value in ("0", "０"):
                    value = 0
                if value is not None:
                    rows.setdefault(row, {})[col] = value
                if cell.rowspan > 1 or cell.colspan > 1:
                    merges.append(f"{_column(col)}{row}:{_column(col + cell.colspan - 1)}{row + cell.rowspan - 1}")
            sheets.append(_sheet_xml(rows, merges))
            headings.append(heading)
    names = [re.sub(r"[\[\]:*?/\\]", "", h)[:31] or f"Sheet{i + 1}" for i, h in enumerate(headings)]
    files = {name: text for name, text in _XLSX_STATIC.items()}
    files["[Content_Types].xml"] = files["[Content_Types].xml"].replace("{sheets}", "".join(
        f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(len(sheets))))
    files["xl/workbook.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        + "".join(f'<sheet name="{escape(n)}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, n in enumerate(names))
        + "</sheets></workbook>")
    files["xl/_rels/workbook.xml.rels"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(f'<Relationship Id="rId{i + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                  f'relationships/worksheet" Target="worksheets/sheet{i + 1}.xml"/>' for i in range(len(sheets)))
        + f'<Relationship Id="rId{len(sheets) + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
          'relationships/styles" Target="styles.xml"/></Relationships>')
    for i, xml in enumerate(sheets):
        files[f"xl/worksheets/sheet{i + 1}.xml"] = xml
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            entry = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(entry, text.encode("utf-8"))
    return out.getvalue()
