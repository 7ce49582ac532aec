"""A report as a PDF attachment: real text layer (STSong-Light CID font) and ruled tables."""
from __future__ import annotations

import io

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from demo_portal.tables import Cell, NumberFormat, cell_text, layout

FONT = "STSong-Light"
rl_config.invariant = 1          # no creation date / random document id: identical bytes on every run
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

TITLE = ParagraphStyle("title", fontName=FONT, fontSize=15, leading=22, alignment=1, spaceAfter=8)
HEADING = ParagraphStyle("heading", fontName=FONT, fontSize=11.5, leading=17, spaceBefore=6, spaceAfter=3)
BODY = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=15, firstLineIndent=20, wordWrap="CJK")
CELL = ParagraphStyle("cell", fontName=FONT, fontSize=6.8, leading=8.5, alignment=1, wordWrap="CJK")


def _pdf_table(grid: list[list[Cell]], fmt: NumberFormat, label_widths: list[float], total_width: float) -> Table:
    placed = layout(grid)
    ncols = max(c + cell.colspan for _, c, cell in placed)
    nrows = len(grid)
    data = [["" for _ in range(ncols)] for _ in range(nrows)]
    commands = [("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("FONT", (0, 0), (-1, -1), FONT, 7), ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2)]
    for r, c, cell in placed:
        text = cell_text(cell, fmt).replace("&nbsp;", "")
        data[r][c] = Paragraph(text, CELL) if cell.fact is None else text
        if cell.rowspan > 1 or cell.colspan > 1:
            commands.append(("SPAN", (c, r), (c + cell.colspan - 1, r + cell.rowspan - 1)))
    rest = (total_width - sum(label_widths)) / (ncols - len(label_widths))
    widths = label_widths + [rest] * (ncols - len(label_widths))
    return Table(data, colWidths=widths, style=TableStyle(commands), repeatRows=0)


def render_pdf(title: str, blocks: list[tuple[str, object]], fmt: NumberFormat) -> bytes:
    """blocks: ("heading", text) | ("para", text) | ("table", (grid, label_widths_mm))."""
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm,
                            topMargin=18 * mm, bottomMargin=18 * mm, title=title, author="", creator="")
    story = [Paragraph(title, TITLE)]
    for kind, content in blocks:
        if kind == "heading":
            story.append(Paragraph(content, HEADING))
        elif kind == "para":
            story.append(Paragraph(content, BODY))
        else:
            grid, label_widths = content
            story.append(_pdf_table(grid, fmt, [w * mm for w in label_widths], doc.width))
            story.append(Spacer(1, 6))
    doc.build(story)
    return buf.getvalue()
