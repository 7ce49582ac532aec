"""warehouse.parse.layout (positioned words + ruling segments -> text lines and table grids) and
the PDF reader built on it (pdfium's characters and paths): the same text and grids as
pdfplumber read before, bounded, and image-only pages handed to OCR."""
from __future__ import annotations

import io
import sys
import time
import types
from pathlib import Path

import pytest

from warehouse.parse.documents import DocumentLimits, DocumentTooLarge, UnsupportedDocument
from warehouse.parse.formats import load_document
from warehouse.parse.html_tables import TableLimits
from warehouse.parse.layout import PositionedGrid, Ruling, Word, page_text, table_grids, text_lines
from warehouse.parse.pdf import load_pdf

SHARED_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


# --------------------------------------------------------------------- layout, pure

def chars(text: str, x: float, top: float, size: float = 10.0, gap: float = 0.0, confidence=None) -> list[Word]:
    """One Word per character, `size` wide, `gap` apart (as a PDF text layer gives them)."""
    out = []
    for ch in text:
        out.append(Word(x, top, x + size, top + size, ch, confidence))
        x += size + gap
    return out


def grid_rulings(xs, ys) -> list[Ruling]:
    """Full-length horizontal and vertical lines at `ys` and `xs`."""
    return ([Ruling(xs[0], y, xs[-1], y) for y in ys] + [Ruling(x, ys[0], x, ys[-1]) for x in xs])


def test_page_text_joins_characters_into_words_and_lines():
    words = (chars("本年", 72, 100) + chars("12", 93, 101, size=5)  # a figure set 1 pt lower: same word
             + chars("件", 140, 100)                                 # 30 pt on: a new word
             + chars("second", 72, 130, size=5) + [Word(102, 130, 104, 135, " ")] + chars("line", 104.5, 130, size=5))
    assert text_lines(words) == [["本年12", "件"], ["second", "line"]]
    assert page_text(words) == "本年12 件\nsecond line"
    assert page_text([]) == "" and text_lines([Word(1, 1, 2, 2, " ")]) == []


def test_ruled_grid_with_a_merged_header_cell():
    xs, ys = [50, 150, 200, 250], [100, 120, 140, 160]
    rulings = [Ruling(50, y, 250, y) for y in ys] + [Ruling(50, 100, 50, 160), Ruling(250, 100, 250, 160)]
    rulings += [Ruling(x, 120, x, 160) for x in xs[1:3]] + [Ruling(150, 100, 150, 120)]  # 150-250 merged in row 1
    words = (chars("项目", 55, 105) + chars("申请", 170, 105) + chars("新收", 55, 125) + chars("12", 160, 125, 5)
             + chars("3", 210, 125, 5) + chars("结转", 55, 145) + chars("0", 160, 145, 5))
    notes: list[str] = []
    grids = table_grids(words, rulings, DocumentLimits(), notes, page=3)
    assert notes == []
    assert len(grids) == 1
    grid = grids[0]
    assert grid.rows == [["项目", "申请", "申请"], ["新收", "12", "3"], ["结转", "0", ""]]
    assert grid.boxes[0][1] == grid.boxes[0][2] == (150, 100, 250, 120)  # the merged cell's box, repeated
    assert grid.boxes[2][2] == (200, 140, 250, 160)
    assert grid.confidence == [[None] * 3] * 3


def test_thin_filled_rects_and_drawn_rects_rule_as_lines_do():
    xs, ys = [50, 120, 190], [200, 220, 240]
    words = chars("A1", 55, 205, 5) + chars("B1", 125, 205, 5) + chars("A2", 55, 225, 5) + chars("B2", 125, 225, 5)
    by_lines = table_grids(words, grid_rulings(xs, ys), DocumentLimits(), [])
    thin = ([Ruling(xs[0], y - 0.4, xs[-1], y + 0.4) for y in ys]            # 0.8 pt filled bars
            + [Ruling(x - 0.4, ys[0], x + 0.4, ys[-1]) for x in xs])
    boxes = [Ruling(xs[i], ys[j], xs[i + 1], ys[j + 1]) for i in range(2) for j in range(2)]  # one rect per cell
    assert [g.rows for g in by_lines] == [[["A1", "B1"], ["A2", "B2"]]]
    assert [g.rows for g in table_grids(words, thin, DocumentLimits(), [])] == [g.rows for g in by_lines]
    assert [g.rows for g in table_grids(words, boxes, DocumentLimits(), [])] == [g.rows for g in by_lines]


def test_ocr_words_belong_to_the_cell_of_their_centre_with_their_lowest_confidence():
    xs, ys = [0, 100, 200], [0, 30, 60]
    words = [Word(-2, 5, 40, 25, "本年新收", 0.96),           # pokes past the left rule: still its cell's
             Word(110, 5, 150, 25, "12", 0.91), Word(160, 5, 178, 25, "件", 0.55),
             Word(5, 35, 60, 55, "结转", 0.99), Word(120, 28, 140, 58, "0", 0.8)]  # its box overlaps two rows' rule
    [grid] = table_grids(words, grid_rulings(xs, ys), DocumentLimits(), [])
    assert grid.rows == [["本年新收", "12 件"], ["结转", "0"]]
    assert grid.confidence == [[0.96, 0.55], [0.99, 0.8]]


def test_a_frame_around_prose_is_not_a_table():
    words = chars("一段正文", 60, 60)
    assert table_grids(words, [Ruling(50, 50, 300, 50), Ruling(50, 90, 300, 90), Ruling(50, 50, 50, 90),
                               Ruling(300, 50, 300, 90)], DocumentLimits(), []) == []


@pytest.mark.parametrize("limits, words", [
    (DocumentLimits(max_pdf_page_objects=10), "chars, lines, rects and curves (limit 10)"),
    (DocumentLimits(max_pdf_page_rulings=5), "lines, rects and curves (limit 5)"),
    (DocumentLimits(max_pdf_page_edge_pairs=10), "(limit 10 pairs)"),
    (DocumentLimits(max_pdf_page_crossings=10), "crossings (limit 10)"),
    (DocumentLimits(max_pdf_table_char_tests=5), "would test"),
    (DocumentLimits(tables=TableLimits(max_cells=4)), "pass 4 cells"),
    (TableLimits(max_chars=5), "passes 5 characters"),
])
def test_each_limit_skips_the_tables_with_a_note(limits, words):
    xs, ys = [50, 100, 150, 200], [100, 120, 140, 160]
    text = [w for i, x in enumerate(xs[:-1]) for j, y in enumerate(ys[:-1]) for w in chars(f"{i}{j}", x + 5, y + 5, 5)]
    assert len(table_grids(text, grid_rulings(xs, ys), DocumentLimits(), [])) == 1
    notes: list[str] = []
    assert table_grids(text, grid_rulings(xs, ys), limits, notes, page=2) == []
    assert len(notes) == 1 and notes[0].startswith("page 2: ") and words in notes[0], notes


def test_ruled_grids_of_tiny_cells_are_refused_before_their_cells_are_looked_for():
    rulings = grid_rulings([10 + 5 * i for i in range(101)], [10 + 5 * i for i in range(101)])
    notes: list[str] = []
    start = time.process_time()
    assert table_grids([], rulings, DocumentLimits(), notes) == []
    assert notes == ["10,201 ruling edge crossings (limit 2,000): tables not looked for"]
    rulings = grid_rulings([10 + 4 * i for i in range(301)], [10 + 4 * i for i in range(301)])
    assert table_grids([], rulings, DocumentLimits(), notes) == []
    assert notes[1] == "301 x 301 ruling edges (limit 50,000 pairs): tables not looked for"
    assert time.process_time() - start < 0.5


# --------------------------------------------------------------------- PDF, against pdfplumber

def report_pdf(pages: int = 2) -> bytes:
    """Pages of prose and ruled tables as Word exports them: CJK text, figures in another font and
    size, a header cell spanning columns, a group cell spanning rows."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import (
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Table,
        TableStyle,
    )

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    style = ParagraphStyle("p", fontName="STSong-Light", fontSize=11, leading=16)
    story = []
    for page in range(pages):
        story.append(Paragraph(f"第{page + 1}部分 本机关2023年主动公开政府信息1136条，受理申请21件。", style))
        rows = [["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"], ["规章", "3", "0", "12"],
                ["行政规范性文件", "15", "2", "88"], ["行政执法", "许可", "处罚", "强制"], ["", "1,204", "37", "0"]]
        table = Table(rows, colWidths=[120, 80, 80, 80])
        table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "STSong-Light"), ("FONTNAME", (1, 1), (-1, 2), "Helvetica"),
                                   ("FONTSIZE", (1, 1), (-1, 2), 12), ("GRID", (0, 0), (-1, -1), 0.5, "black"),
                                   ("SPAN", (0, 3), (0, 4))]))
        story += [table, PageBreak()]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4).build(story)
    return buf.getvalue()


def pdfplumber_reading(data: bytes) -> tuple[list[str], list[list[list[str]]]]:
    """Each page's text and table rows as the reader read them with pdfplumber (extract_text;
    find_tables over lines, each cell's within_bbox text)."""
    pdfplumber = pytest.importorskip("pdfplumber")
    from warehouse.parse.pdf import pdf_table_grid

    texts, grids = [], []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            texts.append(page.extract_text() or "")
            for table in page.find_tables({"vertical_strategy": "lines", "horizontal_strategy": "lines"}):
                grid = pdf_table_grid(table.cells, lambda box: page.within_bbox(box, strict=False).extract_text())
                if grid and len(grid[0]) > 1:
                    grids.append(grid)
    return texts, grids


def pdfium_reading(data: bytes) -> tuple[list[str], list[list[list[str]]]]:
    import pypdfium2 as pdfium

    from warehouse.parse.pdf import page_words_and_rulings

    pdf = pdfium.PdfDocument(data)
    texts, grids = [], []
    try:
        for index in range(len(pdf)):
            words, rulings, _, _ = page_words_and_rulings(pdf, index)
            texts.append(page_text(words))
            grids += [g.rows for g in table_grids(words, rulings, DocumentLimits(), [])]
    finally:
        pdf.close()
    return texts, grids


def test_generated_report_reads_as_pdfplumber_read_it():
    data = report_pdf()
    texts, grids = pdfium_reading(data)
    assert (texts, grids) == pdfplumber_reading(data)
    assert grids[0] == [["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"], ["规章", "3", "0", "12"],
                        ["行政规范性文件", "15", "2", "88"], ["行政执法", "许可", "处罚", "强制"],
                        ["行政执法", "1,204", "37", "0"]]
    doc = load_document(data, filename="r.pdf")
    assert [(t.index, t.page) for t in doc.tables] == [(1, 1), (2, 2)]
    assert doc.tables[0].boxes[1][1] is not None and doc.tables[0].confidence is None
    assert "主动公开政府信息1136条" in doc.text


@pytest.mark.slow
@pytest.mark.parametrize("name", ["003-huaian-hongze-district-2023.pdf", "004-huaian-hongze-district-2024.pdf"])
def test_real_table_era_pdfs_read_as_pdfplumber_read_them(name):
    """Word exports with vertical (Identity-V) labels, rects as rules, frames around prose."""
    path = SHARED_CORPUS / name
    if not path.is_file():
        pytest.skip("../shared/corpus is absent (a fresh clone has no real corpus)")
    data = path.read_bytes()
    texts, grids = pdfium_reading(data)
    assert (texts, grids) == pdfplumber_reading(data)
    # table 三 cut by the page break after 17 (2023) or 16 (2024) of its rows; table 四 of 15 columns
    shapes = [(22, 4), (7, 2), (17, 10), (9, 10), (4, 15)] if "2023" in name else \
        [(22, 4), (7, 2), (16, 10), (10, 10), (4, 15)]
    assert [(len(g), len(g[0])) for g in grids] == shapes


@pytest.mark.slow
def test_reading_is_several_times_faster_than_pdfplumber():
    data = report_pdf(pages=5)
    pdfplumber_reading(data), load_pdf(data)  # imports and fonts warm
    start = time.process_time()
    pdfplumber_reading(data)
    before = time.process_time() - start
    start = time.process_time()
    for _ in range(3):
        load_pdf(data)
    after = (time.process_time() - start) / 3
    assert after * 3 < before, (after, before)


# --------------------------------------------------------------------- bounds of the pdfium pass

def test_page_of_thirty_thousand_rects_keeps_its_text_and_skips_its_tables_quickly():
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 800, "2023 report page")
    for i in range(30_000):
        c.rect(20 + (i % 200) * 2.5, 40 + (i // 200) * 4, 2, 3, stroke=0, fill=1)
    c.showPage()
    c.save()
    load_pdf(report_pdf(1))
    start = time.process_time()
    doc = load_pdf(buf.getvalue())
    assert time.process_time() - start < 1.5
    assert doc.tables == [] and "2023 report page" in doc.text
    assert any("objects drawn (chars, lines, rects and curves; limit 20,000): tables not looked for" in n
               for n in doc.notes), doc.notes


def test_broken_and_encrypted_pdfs_say_why():
    with pytest.raises(UnsupportedDocument, match="PDF cannot be read: PDFSyntaxError"):
        load_pdf(b"%PDF-1.4\n%broken\n")
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=pdfencrypt.StandardEncryption("secret", canPrint=0))
    c.drawString(72, 800, "2023 report")
    c.showPage()
    c.save()
    with pytest.raises(UnsupportedDocument, match="encrypted and needs a password"):
        load_pdf(buf.getvalue())


# --------------------------------------------------------------------- image-only pages

def image_pdf(text_pages: tuple[int, ...], pages: int = 2, titled_scans: tuple[int, ...] = (),
              sealed: tuple[int, ...] = ()) -> bytes:
    """`pages` pages; those numbered in `text_pages` print text, the others only a picture;
    `titled_scans`: a scan over the whole page under a title text layer without digits;
    `sealed`: a text page without digits and a small picture (an agency's seal)."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    picture = ImageReader(Image.new("L", (200, 100), 255))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for number in range(1, pages + 1):
        if number in text_pages:
            c.drawString(72, 800, f"page {number}: 2023 report text")
        elif number in titled_scans:
            c.drawImage(picture, 0, 0, 595, 842)
            c.drawString(72, 800, "scanned annual report")
        elif number in sealed:
            c.drawString(72, 800, "no other matters to report")
            c.drawImage(picture, 400, 600, 100, 100)
        else:
            c.drawImage(picture, 72, 500, 400, 200)
        c.showPage()
    c.save()
    return buf.getvalue()


def test_image_only_pages_without_ocr_are_noted(monkeypatch):
    monkeypatch.setitem(sys.modules, "warehouse.parse.ocr", None)  # import fails: OCR not installed
    doc = load_pdf(image_pdf(text_pages=(1,), pages=3))
    assert doc.text.startswith("page 1: 2023 report text")
    assert doc.notes == ["image-only page 2: OCR not available", "image-only page 3: OCR not available"]
    with pytest.raises(UnsupportedDocument, match=r"^PDF has no text layer \(scanned images or empty\)$"):
        load_pdf(image_pdf(text_pages=()))


def test_image_only_pages_are_read_by_ocr_and_merged_in_page_order(monkeypatch):
    calls = []

    def ocr_pdf_pages(data, numbers, limits, notes):
        calls.append(list(numbers))
        notes.append("page 1: read by OCR")
        grid = PositionedGrid(rows=[["申请", "12"]], boxes=[[(0, 0, 50, 20), (50, 0, 90, 20)]],
                              confidence=[[0.9, 0.62]])
        return [(1, "scanned page one 受理申请12件", [grid])]

    fake = types.ModuleType("warehouse.parse.ocr")
    fake.ocr_pdf_pages = ocr_pdf_pages
    fake.OcrUnavailable = type("OcrUnavailable", (UnsupportedDocument,), {})
    monkeypatch.setitem(sys.modules, "warehouse.parse.ocr", fake)
    doc = load_pdf(image_pdf(text_pages=(2,)))
    assert calls == [[1]]
    load_pdf(image_pdf(text_pages=(1,), pages=4, titled_scans=(2,), sealed=(3,)))
    assert calls[-1] == [2, 4]  # the seal's page keeps its own words
    assert doc.text.startswith("scanned page one 受理申请12件\npage 2: 2023 report text")
    assert [(t.index, t.page, t.rows, t.confidence, t.ocr) for t in doc.tables] == [
        (1, 1, [["申请", "12"]], [[0.9, 0.62]], True)]
    assert doc.notes == ["page 1: read by OCR"]

    def unavailable(data, numbers, limits, notes):
        raise fake.OcrUnavailable("OCR engine not installed")

    fake.ocr_pdf_pages = unavailable
    with pytest.raises(UnsupportedDocument, match=r"^PDF has no text layer"):
        load_pdf(image_pdf(text_pages=()))

    def too_slow(data, numbers, limits, notes):
        raise DocumentTooLarge("OCR ran past its time limit (45 s a document) before page 1 was read")

    fake.ocr_pdf_pages = too_slow
    with pytest.raises(DocumentTooLarge, match="OCR ran past its time limit"):
        load_pdf(image_pdf(text_pages=()))
    doc = load_pdf(image_pdf(text_pages=(2,)))  # the text pages stay, the refusal is a note
    assert doc.text.startswith("page 2: 2023 report text")
    assert doc.notes == ["image-only pages 1: OCR stopped: OCR ran past its time limit (45 s a document)"
                         " before page 1 was read"]
    assert not any("read by OCR" in note for note in doc.notes)  # the OCR note flags a document's figures

    def crashes(data, numbers, limits, notes):
        raise RuntimeError("engine crashed")

    fake.ocr_pdf_pages = crashes
    with pytest.raises(UnsupportedDocument, match="^PDF has no text layer and OCR failed: RuntimeError: engine crashed$"):
        load_pdf(image_pdf(text_pages=()))
    assert load_pdf(image_pdf(text_pages=(2,))).notes == ["image-only pages 1: OCR failed: RuntimeError: engine crashed"]


# --------------------------------------------------------------------- geometry, against pdfplumber

def _pdfplumber_tables(rulings: list[Ruling]) -> list[list[tuple]]:
    """pdfplumber's table finder ("lines" strategy) over the same segments, as line objects."""
    table = pytest.importorskip("pdfplumber.table")
    edges = []
    for r in rulings:
        horizontal = r.top == r.bottom
        edges.append({"x0": r.x0, "x1": r.x1, "top": r.top, "bottom": r.bottom, "width": r.x1 - r.x0,
                      "height": r.bottom - r.top, "orientation": "h" if horizontal else "v", "object_type": "line"})
    edges = [e for e in edges if (e["width"] if e["orientation"] == "h" else e["height"]) >= 1]
    edges = table.merge_edges(edges, 3, 3, 3, 3)
    edges = [e for e in edges if (e["width"] if e["orientation"] == "h" else e["height"]) >= 3]
    return [sorted(t) for t in table.cells_to_tables(table.intersections_to_cells(table.edges_to_intersections(edges, 3, 3)))]


def test_cells_and_tables_are_pdfplumbers_on_random_rulings():
    """Random partial grids: rules missing, cut short, drawn twice a little apart, as Word does."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from warehouse.parse.layout import _cells, _crossings, _edges, _merge, _tables

    seen: list[int] = []

    @settings(max_examples=60, deadline=None)
    @given(st.data())
    def check(data):
        xs = sorted(data.draw(st.sets(st.integers(0, 60), min_size=2, max_size=8)))
        ys = sorted(data.draw(st.sets(st.integers(0, 60), min_size=2, max_size=8)))
        rulings = []
        def extent(values):
            if data.draw(st.integers(0, 3)):  # mostly the whole width (height) of the table
                return values[0], values[-1]
            return tuple(sorted(data.draw(st.sampled_from(values)) for _ in range(2)))

        for y in ys:
            if data.draw(st.integers(0, 4)) or y in (ys[0], ys[-1]):
                (a, b), jitter = extent(xs), data.draw(st.sampled_from([0, 0, 0.5, 2.5]))
                rulings.append(Ruling(a * 8.0, y * 8.0 + jitter, b * 8.0, y * 8.0 + jitter))
                if data.draw(st.integers(0, 5)) == 0:  # drawn twice, a little apart
                    rulings.append(Ruling(a * 8.0 + 1, y * 8.0 + 1.2, b * 8.0 - 1, y * 8.0 + 1.2))
        for x in xs:
            if data.draw(st.integers(0, 4)) or x in (xs[0], xs[-1]):
                a, b = extent(ys)
                rulings.append(Ruling(x * 8.0, a * 8.0, x * 8.0, b * 8.0))
        horizontal, vertical = _edges(rulings, 3.0)
        ours = [sorted(t) for t in _tables(_cells(_crossings(_merge(horizontal, 3.0), _merge(vertical, 3.0), 3.0)))]
        theirs = _pdfplumber_tables(rulings)
        seen.append(len(theirs))
        assert [[tuple(round(v, 6) for v in c) for c in t] for t in ours] == \
            [[tuple(round(v, 6) for v in c) for c in t] for t in theirs]

    check()
    assert sum(1 for n in seen if n) > 10  # tables were found, not only empty pages
