"""Cheap bounds before the expensive work (DocumentLimits, TableLimits): a hostile document
is refused (DocumentTooLarge) or its hostile part skipped with a note, in milliseconds, and
no real document comes near a limit.

The hostile inputs are generated here, small: reportlab PDFs, zipfile DOCX bombs, HTML strings.
"""
from __future__ import annotations

import dataclasses
import io
import re
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from warehouse.parse.documents import DocumentLimits, DocumentTooLarge, UnsupportedDocument
from warehouse.parse.formats import load_document
from warehouse.parse.office import _docx_grid
from warehouse.parse.pdf import _position, pdf_table_grid
from warehouse.parse.html_tables import GridTooLarge, TableLimits, table_grid

pytest.importorskip("reportlab")

SHARED_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


# --------------------------------------------------------------------- generators

def pdf_pages(*draws, size=(595, 842)) -> bytes:
    """A PDF with one page per drawing function (each given a reportlab canvas)."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size)
    for draw in draws:
        draw(c)
        c.showPage()
    c.save()
    return buf.getvalue()


def text_page(line: str = "2022 annual report of the agency"):
    return lambda c: c.drawString(72, 780, line)


def ruled_grid(n: int, step: float = 4.0, labels: bool = False):
    """A page ruled into n x n tiny cells (n+1 horizontal and n+1 vertical lines)."""
    def draw(c):
        c.drawString(72, 800, "ruled grid")
        c.setLineWidth(0.1)
        for i in range(n + 1):
            c.line(40, 40 + i * step, 40 + n * step, 40 + i * step)
            c.line(40 + i * step, 40, 40 + i * step, 40 + n * step)
        if labels:
            c.setFontSize(2)
            for i in range(n):
                for j in range(n):
                    c.drawString(40.5 + i * step, 40.5 + j * step, "1")
    return draw


def drawn_table(rows: int = 4, cols: int = 3):
    """A small real-looking ruled table with a figure in each cell."""
    def draw(c):
        c.drawString(72, 800, "table page")
        x0, top, w, h = 72, 700, 80, 20
        for i in range(rows + 1):
            c.line(x0, top - i * h, x0 + cols * w, top - i * h)
        for j in range(cols + 1):
            c.line(x0 + j * w, top, x0 + j * w, top - rows * h)
        for i in range(rows):
            for j in range(cols):
                c.drawString(x0 + j * w + 5, top - (i + 1) * h + 6, f"{i}{j}")
    return draw


def docx_bytes(paragraphs: int = 3) -> bytes:
    import docx

    document = docx.Document()
    for i in range(paragraphs):
        document.add_paragraph(f"2022年政府信息公开工作年度报告 第{i}段")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def docx_with_document_xml(write_body, compresslevel: int = 6) -> bytes:
    """A valid DOCX whose word/document.xml is replaced by what `write_body(file)` writes."""
    source = zipfile.ZipFile(io.BytesIO(docx_bytes()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as out:
        for info in source.infolist():
            if info.filename == "word/document.xml":
                with out.open("word/document.xml", "w") as f:
                    write_body(f)
            else:
                out.writestr(info.filename, source.read(info.filename))
    return buf.getvalue()


PARAGRAPH = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>"
BODY_START = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w='
              b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
BODY_END = b"</w:body></w:document>"


def paragraphs_body(megabytes: int):
    def write(f):
        f.write(BODY_START)
        chunk = PARAGRAPH * (1_000_000 // len(PARAGRAPH))
        for _ in range(megabytes):
            f.write(chunk)
        f.write(BODY_END)
    return write


def timed(fn, *args, **kwargs):
    started = time.monotonic()
    result = fn(*args, **kwargs)
    return result, time.monotonic() - started


def load_or_reason(data: bytes, filename: str, limits: DocumentLimits | None = None):
    try:
        return load_document(data, filename=filename, **({"limits": limits} if limits else {}))
    except UnsupportedDocument as exc:
        return exc


BOUNDS_NOTE = re.compile(r"\(limit |\blimit\b|read as \d|grid cut|not read\b|not looked for")


# --------------------------------------------------------------------- PDF

def test_pdf_grid_of_tiny_ruled_cells_is_skipped_with_a_note_other_pages_still_read():
    """The 72 KB PDF that never finished: a page ruled into very many tiny cells."""
    load_document(pdf_pages(text_page()), filename="warm.pdf")  # pdfplumber's import is not the test
    data = pdf_pages(text_page(), ruled_grid(120), drawn_table())
    doc, seconds = timed(load_document, data, filename="grid.pdf")
    assert seconds < 5
    assert any(n.startswith("page 2:") and "crossings" in n and "not looked for" in n for n in doc.notes), doc.notes
    assert "annual report" in doc.text and "ruled grid" in doc.text   # the page's text is still read
    assert [t.page for t in doc.tables] == [3]                         # and the other pages' tables
    assert doc.tables[0].rows[0] == ["00", "01", "02"]


def test_pdf_grid_with_a_figure_in_each_tiny_cell_is_bounded():
    data = pdf_pages(ruled_grid(60, step=6, labels=True))
    doc, seconds = timed(load_document, data, filename="grid.pdf")
    assert seconds < 5
    assert not doc.tables and any("not looked for" in n for n in doc.notes), doc.notes


@pytest.mark.parametrize("field,value,words", [
    ("max_pdf_page_objects", 10, "chars, lines, rects and curves"),
    ("max_pdf_page_rulings", 5, "lines, rects and curves"),
    ("max_pdf_page_edge_pairs", 10, "ruling edges"),
    ("max_pdf_page_crossings", 10, "crossings"),
    ("max_pdf_table_char_tests", 5, "would test"),
])
def test_pdf_page_over_a_table_limit_keeps_its_text_and_skips_its_tables(field, value, words):
    data = pdf_pages(drawn_table())
    assert len(load_document(data, filename="t.pdf").tables) == 1
    doc = load_document(data, filename="t.pdf", limits=DocumentLimits(**{field: value}))
    assert not doc.tables and "table page" in doc.text
    assert any(n.startswith("page 1:") and words in n and "limit" in n for n in doc.notes), doc.notes


def test_pdf_page_with_too_many_drawing_operators_is_not_read():
    data = pdf_pages(text_page("first page"), ruled_grid(30), text_page("third page"))
    doc = load_document(data, filename="ops.pdf", limits=DocumentLimits(max_pdf_page_content_bytes=1000))
    assert "first page" in doc.text and "third page" in doc.text and "ruled grid" not in doc.text
    assert any(n.startswith("page 2:") and "drawing operators" in n and "page not read" in n for n in doc.notes)
    with pytest.raises(DocumentTooLarge, match=r"no page within the limits: page 1: [\d,]+ bytes of drawing operators"):
        load_document(pdf_pages(ruled_grid(30)), filename="ops.pdf", limits=DocumentLimits(max_pdf_page_content_bytes=1000))


def test_pdf_with_more_pages_than_the_limit_is_refused_from_its_page_count():
    data = pdf_pages(*[text_page(f"page {i}") for i in range(6)])
    assert load_document(data, filename="ok.pdf", limits=DocumentLimits(max_pdf_pages=6)).text
    with pytest.raises(DocumentTooLarge, match=r"^PDF has 6 pages \(limit 5\)$"):
        load_document(data, filename="six.pdf", limits=DocumentLimits(max_pdf_pages=5))


def test_pdf_whose_page_count_lies_is_still_bounded():
    data = pdf_pages(*[text_page(f"page {i}") for i in range(6)])
    assert data.count(b"/Count 6") == 1
    lying = data.replace(b"/Count 6", b"/Count 1")   # same length: the xref offsets stay right
    with pytest.raises(DocumentTooLarge, match=r"more than 5 pages \(limit 5; its page count says 1\)"):
        load_document(lying, filename="lying.pdf", limits=DocumentLimits(max_pdf_pages=5))


def test_pdf_over_the_default_page_limit_is_refused_in_milliseconds():
    limit = DocumentLimits().max_pdf_pages
    data = pdf_pages(*[lambda c: c.drawString(72, 780, "x")] * (limit + 1))
    load_document(pdf_pages(text_page()), filename="warm.pdf")
    started = time.monotonic()
    with pytest.raises(DocumentTooLarge, match=rf"PDF has {limit + 1} pages \(limit {limit}\)"):
        load_document(data, filename="many.pdf")
    assert time.monotonic() - started < 1


def test_pdf_table_grid_bounds_before_allocating():
    limits = TableLimits(max_cells=100)
    texts = {}
    # 11 x 11 cells whose left edges shift on every other row: over 100 grid positions
    cells = [(i * 10.0 + i * 0.5 * (j % 2), j * 10.0, i * 10.0 + 10, j * 10.0 + 10)
             for i in range(11) for j in range(11)]
    with pytest.raises(GridTooLarge, match="pass 100 cells"):
        pdf_table_grid(cells, texts.get, limits)
    # concentric boxes: few cells and positions, each cell covering most of the grid
    boxes = [(float(i), float(i), 100.0 - i, 100.0 - i) for i in range(0, 40, 4)]
    with pytest.raises(GridTooLarge, match="cover"):
        pdf_table_grid(boxes, texts.get, TableLimits(max_cells=400))
    # text repeated over spans
    wide = [(0.0, 0.0, 100.0, 10.0), (0.0, 10.0, 50.0, 20.0), (50.0, 10.0, 100.0, 20.0)]
    with pytest.raises(GridTooLarge, match="characters"):
        pdf_table_grid(wide, lambda box: "长" * 40, TableLimits(max_chars=100))


@given(st.lists(st.floats(-1000, 1000, allow_nan=False), min_size=1, max_size=30, unique=True),
       st.floats(-1200, 1200, allow_nan=False))
def test_position_is_the_first_nearest_edge(edges, value):
    edges.sort()
    assert _position(edges, value) == min(range(len(edges)), key=lambda i: abs(edges[i] - value))


# --------------------------------------------------------------------- DOCX

def test_docx_inflating_past_the_limit_is_refused_before_unzipping():
    data = docx_with_document_xml(paragraphs_body(101), compresslevel=1)
    assert len(data) < 2_000_000
    error, seconds = timed(load_or_reason, data, "bomb.docx")
    assert isinstance(error, DocumentTooLarge), error
    assert re.fullmatch(r"DOCX inflates to [\d,]+ bytes \(limit 100,000,000\)", str(error)), error
    assert seconds < 0.5


def test_docx_over_a_small_inflated_limit():
    data = docx_with_document_xml(paragraphs_body(2))
    assert isinstance(load_or_reason(data, "a.docx"), DocumentTooLarge)   # 2 MB of one paragraph: ratio
    with pytest.raises(DocumentTooLarge, match="inflates to"):
        load_document(data, filename="a.docx", limits=DocumentLimits(max_zip_inflated_bytes=1_000_000))


def test_docx_with_an_absurd_compression_ratio_is_refused():
    data = docx_with_document_xml(paragraphs_body(5))
    error, seconds = timed(load_or_reason, data, "ratio.docx")
    assert isinstance(error, DocumentTooLarge), error
    assert re.search(r"member word/document.xml inflates [\d,]+:1 \(.* limit 100:1\)", str(error)), error
    assert seconds < 0.5


def test_docx_xml_member_and_member_count_limits():
    data = docx_bytes()
    assert load_document(data, filename="ok.docx").text
    with pytest.raises(DocumentTooLarge, match=r"^DOCX member word/styles.xml inflates to 349,458 bytes of XML"):
        load_document(data, filename="a.docx", limits=DocumentLimits(max_zip_xml_bytes=300_000))
    with pytest.raises(DocumentTooLarge, match=r"zip members \(limit 3\)"):
        load_document(data, filename="a.docx", limits=DocumentLimits(max_zip_members=3))


def _docx_table_document(rows: int, cols: int):
    import docx

    document = docx.Document()
    document.add_paragraph("2022年政府信息公开工作年度报告")
    table = document.add_table(rows=rows, cols=cols)
    for r in range(rows):
        for c in range(cols):
            table.cell(r, c).text = f"{r}-{c}"
    return document, table


def _reread(document):
    import docx

    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue(), docx.Document(io.BytesIO(buf.getvalue()))


def test_docx_grid_is_python_docx_rows_cells():
    """_docx_grid builds from the XML what python-docx's row.cells give (merges repeated)."""
    document, table = _docx_table_document(7, 6)
    table.cell(0, 0).merge(table.cell(2, 1))     # a block
    table.cell(0, 2).merge(table.cell(0, 5))     # a header row span
    table.cell(3, 0).merge(table.cell(6, 0))     # a vertical chain over four rows
    table.cell(4, 2).merge(table.cell(5, 4))     # a block in the middle
    data, reread = _reread(document)
    expected = [[re.sub(r"\s+", " ", cell.text).strip() for cell in row.cells] for row in reread.tables[0].rows]
    width = max(map(len, expected))
    expected = [row + [""] * (width - len(row)) for row in expected]
    assert _docx_grid(reread.tables[0]) == expected
    assert load_document(data, filename="t.docx").tables[0].rows == expected


def test_docx_huge_grid_span_is_clamped_and_the_grid_bounded():
    from docx.oxml.ns import qn

    document, table = _docx_table_document(3, 2)
    tc_pr = table.cell(0, 0)._tc.get_or_add_tcPr()
    span = tc_pr.makeelement(qn("w:gridSpan"), {qn("w:val"): "100000000"})
    tc_pr.append(span)
    data, _ = _reread(document)
    doc, seconds = timed(load_document, data, filename="span.docx")
    assert seconds < 2
    grid = doc.tables[0].rows
    assert len(grid[0]) <= TableLimits().max_colspan + 1
    assert any("gridSpan 100000000 read as 1000" in n for n in doc.notes), doc.notes
    small = load_document(data, filename="span.docx", limits=DocumentLimits(tables=TableLimits(max_cells=1500)))
    assert len(small.tables[0].rows) * len(small.tables[0].rows[0]) <= 1500
    assert any("grid cut" in n for n in small.notes), small.notes


# --------------------------------------------------------------------- HTML

def html_page(body: str) -> bytes:
    return f"<html><head><meta charset='utf-8'><title>年度报告</title></head><body>{body}</body></html>".encode()


def test_html_colspan_and_rowspan_of_100000_are_clamped():
    rows = "".join(f"<tr><td>{i}</td><td>b</td></tr>" for i in range(5))
    data = html_page("<table><tr><td colspan='100000' rowspan='100000'>x</td><td>y</td></tr>" + rows + "</table>")
    doc, seconds = timed(load_document, data, filename="span.html")
    assert seconds < 2
    grid = doc.tables[0].rows
    assert len(grid) == 6 and len(grid[0]) == TableLimits().max_colspan + 2   # rows 2-6 place 2 cells after it
    assert grid[0][999:] == ["x", "y", ""] and grid[5][:3] == ["x", "x", "x"] and grid[5][-2:] == ["4", "b"]
    assert any('colspan="100000" read as 1000' in n and 'rowspan="100000" read as 6' in n for n in doc.notes), doc.notes


def test_html_wide_colspan_rows_are_cut_at_the_cell_limit():
    """The 20 MB page of wide colspan rows that passed 5 GB, scaled down: 30,000 such rows."""
    data = html_page("<table>" + "<tr><td colspan='1000'>x</td></tr>" * 30_000 + "</table><p>after</p>")
    doc, seconds = timed(load_document, data, filename="wide.html")
    assert seconds < 2
    limit = TableLimits().max_cells
    [table] = doc.tables
    assert len(table.rows) * len(table.rows[0]) <= limit and len(table.rows) == limit // 1000
    assert any(f"grid cut to its first {limit // 1000} of 30000 rows" in n for n in doc.notes), doc.notes
    assert doc.text.endswith("after")


def test_html_long_text_spanned_wide_is_cut_at_the_text_limit():
    data = html_page("<table><tr><td colspan='1000'>" + "长" * 5_000 + "</td></tr><tr><td>a</td></tr></table>")
    doc, seconds = timed(load_document, data, filename="text.html")
    assert seconds < 2 and len(doc.text) < 1_000_000
    assert any("characters" in n and "grid cut to its first 0 of 2 rows" in n for n in doc.notes), doc.notes


def test_html_tables_past_the_document_budget_are_skipped():
    table = "<table>" + "<tr><td>1</td><td>2</td></tr>" * 10 + "</table>"
    data = html_page(table * 50)
    assert len(load_document(data, filename="many.html").tables) == 50
    doc = load_document(data, filename="many.html", limits=DocumentLimits(max_document_cells=200))
    assert len(doc.tables) == 10
    assert sum(1 for n in doc.notes if "pass 200 cells" in n) == 1, doc.notes


def test_html_over_the_size_limit_is_refused():
    limit = DocumentLimits().max_decoded_chars
    data = b"<html><body><p>" + b"x" * limit + b"</p></body></html>"
    error, seconds = timed(load_or_reason, data, "huge.html")
    assert isinstance(error, DocumentTooLarge), error
    assert str(error) == f"HTML has {len(data):,} characters after decoding (limit {limit:,})"
    assert seconds < 2
    with pytest.raises(DocumentTooLarge, match="text has 2,000 characters after decoding"):
        load_document("年".encode() * 2000, filename="a.txt", limits=DocumentLimits(max_decoded_chars=1000))


def test_span_of_thousands_of_digits_is_clamped_not_an_error():
    doc = load_document(html_page(f"<table><tr><td colspan='{'9' * 5000}'>a</td><td>b</td></tr></table>"),
                        filename="digits.html")
    assert len(doc.tables[0].rows[0]) == 1001


SPAN = st.one_of(st.none(), st.integers(-5, 2_000_000).map(str),
                 st.sampled_from(["", "abc", "0", "-1", "x2", "3.5", " 7 ", "9" * 50, "1e9"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.tuples(SPAN, SPAN), max_size=6), max_size=8),
       st.integers(1, 60), st.integers(1, 5000), st.integers(1, 400))
def test_random_spans_never_raise_and_never_pass_the_caps(rows, max_colspan, max_rowspan, max_cells):
    limits = TableLimits(max_colspan=max_colspan, max_rowspan=max_rowspan, max_cells=max_cells)
    markup = "<table>" + "".join(
        "<tr>" + "".join(f"<td{'' if r is None else f' rowspan={r!r}'}{'' if c is None else f' colspan={c!r}'}>v</td>"
                         for r, c in row) + "</tr>" for row in rows) + "</table>"
    notes: list[str] = []
    grid = table_grid(lxml_html.fromstring(markup), notes, limits)
    assert len(grid) <= len(rows)
    if grid:
        assert len({len(row) for row in grid}) == 1
        assert len(grid) * len(grid[0]) <= max_cells
        assert len(grid[0]) <= max_colspan * sum(map(len, rows))   # cells pushed right by rowspans above


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 10**12), st.integers(1, 10**12))
def test_random_huge_spans_with_default_limits(rowspan, colspan):
    markup = (f"<table><tr><td rowspan='{rowspan}' colspan='{colspan}'>x</td><td>y</td></tr>"
              "<tr><td>a</td></tr><tr><td>b</td></tr></table>")
    grid = table_grid(lxml_html.fromstring(markup), [])
    assert len(grid) <= 3 and len(grid[0]) <= 1001


# --------------------------------------------------------------------- real documents

def _fivefold_tighter() -> DocumentLimits:
    """Every limit a fifth of its default (pages, spans, cells ...; not the zip limits: there is
    no real DOCX; not the wall-clock budgets (OCR seconds): they bound time on a loaded machine,
    not what a document holds): real documents must not notice."""
    tables = TableLimits(**{f.name: getattr(TableLimits(), f.name) // 5 for f in dataclasses.fields(TableLimits)})
    fields = {f.name: getattr(DEFAULT, f.name) // 5 for f in dataclasses.fields(DocumentLimits)
              if f.name != "tables" and "zip" not in f.name and "seconds" not in f.name}
    return DocumentLimits(**fields, tables=tables)


DEFAULT = DocumentLimits()


def _same_with_tighter_limits(paths: list[Path]) -> list[str]:
    tight = _fivefold_tighter()
    problems = []
    for path in paths:
        data = path.read_bytes()
        loose, strict = load_or_reason(data, path.name), load_or_reason(data, path.name, tight)
        if isinstance(loose, DocumentTooLarge):
            problems.append(f"{path.name}: {loose}")
            continue
        if isinstance(loose, UnsupportedDocument):
            if type(strict) is not type(loose) or str(strict) != str(loose):
                problems.append(f"{path.name}: {strict} (default limits: {loose})")
            continue
        if isinstance(strict, UnsupportedDocument):
            problems.append(f"{path.name}: refused with fivefold tighter limits: {strict}")
            continue
        notes = [n for n in loose.notes + strict.notes if BOUNDS_NOTE.search(n)]
        if notes or (strict.text, [t.rows for t in strict.tables], strict.notes) != (
                loose.text, [t.rows for t in loose.tables], loose.notes):
            problems.append(f"{path.name}: differs with fivefold tighter limits {notes[:3]}")
    return problems


@pytest.mark.slow
def test_real_corpus_documents_are_untouched_by_fivefold_tighter_limits():
    if not SHARED_CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent (a fresh clone has no real corpus)")
    paths = sorted(p for p in SHARED_CORPUS.iterdir() if p.suffix in (".html", ".pdf", ".txt", ".docx", ".doc"))
    assert paths
    problems = _same_with_tighter_limits(paths)
    assert not problems, problems


@pytest.mark.slow
def test_demo_portal_documents_are_untouched_by_fivefold_tighter_limits(tmp_path):
    from demo_portal.generate import generate_portal
    from demo_portal.verify import SCORED_APART, report_file

    key = generate_portal(tmp_path)
    # the scanned reports are read by OCR, whose page and time bounds tests/test_ocr.py tries
    scanned = {report_file(tmp_path, r) for r in key["reports"] if r.get("format") in SCORED_APART}
    paths = sorted(p for p in (tmp_path / "site").rglob("*") if p.suffix in (".html", ".pdf") and p not in scanned)
    assert any(p.suffix == ".pdf" for p in paths)
    problems = _same_with_tighter_limits(paths)
    assert not problems, problems
