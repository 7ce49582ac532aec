"""OCR of image-only reports (warehouse.parse.ocr, warehouse.parse.images): table pages this test
renders itself, with figures it writes (tables 三 and 四 of a 2021-layout report), scanned with
noise (0.5 degree rotation, blur, JPEG quality 60), read back as an image and as an image-only PDF;
the hostile images; the parse worker's time limit.

The OCR tests need Debian's tesseract with chi_sim (skipped without it) and a Chinese font for the
page rendering (fonts-wqy-zenhei; skipped without one)."""
from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from warehouse.metrics import APPLICANT_ADDENDS
from warehouse.parse import parse_bytes, parse_document
from warehouse.parse.documents import (
    DEFAULT_LIMITS,
    Document,
    DocumentTooLarge,
    Table,
    UnsupportedDocument,
)
from warehouse.parse.formats import detect_kind, load_document

ROOT = Path(__file__).resolve().parents[1]

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None
    or "chi_sim" not in subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout,
    reason="tesseract with chi_sim is not installed")
needs_cjk_font = pytest.mark.skipif(
    not shutil.which("fc-list") or not subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout,
    reason="no Chinese font to render the test pages")


# ------------------------------------------------------------------ the figures this test writes

# The outcome rows of table 三 in the 2021 layout, in order (demo_portal.figures.outcome_rows), and
# their figures: natural_person, commercial_enterprise, research, public_welfare, legal_service, other.
OUTCOME_FIGURES = (
    (41, 7, 1, 0, 3, 2), (11, 2, 0, 0, 1, 0),                                    # granted, partially
    (1, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0), (0, 1, 0, 0, 0, 0), (3, 0, 0, 0, 1, 0),  # withheld ...
    (2, 0, 0, 0, 0, 0), (4, 1, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0), (1, 0, 0, 0, 0, 0),
    (27, 5, 0, 1, 2, 1), (6, 0, 0, 0, 0, 0), (5, 1, 0, 0, 0, 0),                 # unavailable ...
    (9, 0, 0, 0, 0, 1), (4, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0), (1, 0, 0, 0, 0, 0),  # not handled ...
    (2, 0, 0, 0, 0, 0),
    (3, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0), (1, 0, 0, 0, 0, 0),                  # other handling ...
)
CARRIED_OVER = (8, 1, 0, 0, 1, 0)
CARRIED_FORWARD = (13, 2, 0, 0, 2, 1)
REVIEWS = {"reconsideration": (2, 1, 0, 1), "litigation_direct": (1, 0, 0, 0),
           "litigation_after_reconsideration": (0, 1, 0, 0)}


def figures():
    """The demo generator's Figures filled with this test's numbers (identities hold)."""
    from demo_portal.figures import Figures, outcome_rows

    requests = {}
    outcomes = dict(zip(outcome_rows("table_2021"), OUTCOME_FIGURES, strict=True))
    rows = dict(outcomes)
    rows["carried_over"] = CARRIED_OVER
    rows["carried_forward"] = CARRIED_FORWARD
    rows["handled_total"] = tuple(sum(v[i] for v in outcomes.values()) for i in range(6))
    rows["received_new"] = tuple(rows["handled_total"][i] + CARRIED_FORWARD[i] - CARRIED_OVER[i] for i in range(6))
    for row, values in rows.items():
        for applicant, value in zip(APPLICANT_ADDENDS, values):
            requests[(row, applicant)] = value
        requests[(row, "total")] = sum(values)
    reviews = {}
    for proceeding, values in REVIEWS.items():
        for result, value in zip(("upheld", "corrected", "other", "pending"), values):
            reviews[(proceeding, result)] = value
        reviews[(proceeding, "total")] = sum(values)
    return Figures(era="table_2021", requests=requests, reviews=reviews)


def expected_facts() -> dict[tuple, float]:
    figs = figures()
    out = {("requests", row, applicant): v for (row, applicant), v in figs.requests.items()}
    out.update({("reviews", proc, result): v for (proc, result), v in figs.reviews.items()})
    return out


TITLE = "青川省测试局2022年政府信息公开工作年度报告"


def report_pdf() -> bytes:
    """A text PDF of the report (its tables 三 and 四), by the demo generator's PDF renderer."""
    import random

    from demo_portal import tables
    from demo_portal.agencies import Style
    from demo_portal.pdf import render_pdf

    figs, style = figures(), Style()
    blocks = [("para", "本报告根据《中华人民共和国政府信息公开条例》要求编制。本报告所列数据的统计期限自2022年1月1日起至2022年12月31日止。"),
              ("heading", "三、收到和处理政府信息公开申请情况"), ("table", (tables.requests_grid(figs, style), [12, 18, 40])),
              ("heading", "四、政府信息公开行政复议、行政诉讼情况"), ("table", (tables.reviews_grid(figs, style), []))]
    return render_pdf(TITLE, blocks, tables.NumberFormat(style, random.Random(7)))


def scan(image, angle: float = 0.5, blur: float = 0.8, quality: int = 60):
    """A page as a scanner gives it: slightly rotated, blurred, JPEG artefacts (grey)."""
    from PIL import Image, ImageFilter

    out = image.convert("L").rotate(angle, resample=Image.BICUBIC, fillcolor=255).filter(ImageFilter.GaussianBlur(blur))
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue()))


def scanned_pages(dpi: int = 200) -> list:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(report_pdf())
    try:
        return [scan(pdf[i].render(scale=dpi / 72).to_pil()) for i in range(len(pdf))]
    finally:
        pdf.close()


@pytest.fixture(scope="module")
def pages():
    return scanned_pages()


@pytest.fixture(scope="module")
def scanned_pdf(pages) -> bytes:
    buf = io.BytesIO()
    rgb = [p.convert("RGB") for p in pages]
    rgb[0].save(buf, "PDF", save_all=True, append_images=rgb[1:], resolution=200)
    return buf.getvalue()


@pytest.fixture(scope="module")
def page_jpeg(pages) -> bytes:
    buf = io.BytesIO()
    pages[0].save(buf, "JPEG", quality=85)
    return buf.getvalue()


def score(report, expected: dict) -> tuple[int, int, list]:
    got = {(f.table, *f.dims.values()): f for f in report.facts}
    right = [k for k, v in expected.items() if k in got and float(got[k].value) == float(v)]
    wrong = [(k, v, got[k].value, got[k].approximate) for k, v in expected.items()
             if k in got and float(got[k].value) != float(v)]
    return len(right), len(expected), wrong


PROVENANCE = re.compile(r"^table\d+!r\d+c\d+ ocr p\d+ \(\d+,\d+,\d+,\d+\)( conf \d\.\d\d)?$")


# ------------------------------------------------------------------ reading scanned pages

@pytest.mark.slow
@needs_tesseract
@needs_cjk_font
def test_scanned_pdf_figures_right_and_flagged(scanned_pdf):
    """An image-only PDF of the report: >= 99 % of its table figures right, every figure with its
    page and box, the wrong ones (if any) flagged approximate, the confirmed ones not."""
    report = parse_bytes(scanned_pdf, "scan.pdf")
    assert report.status == "parsed" and report.era == "table_2021" and report.report_year == 2022
    expected = expected_facts()
    right, total, wrong = score(report, expected)
    assert total == 7 * 25 + 15
    assert right / total >= 0.99, wrong
    assert all(approximate for *_, approximate in wrong), f"a wrong OCR figure was not flagged: {wrong}"
    ocr_facts = [f for f in report.facts if f.table in ("requests", "reviews") and f.source.startswith("table")]
    assert len(ocr_facts) >= 0.95 * total
    assert not [f.source for f in ocr_facts if not PROVENANCE.match(f.source)]
    assert all(f.source.endswith(" ocr") for f in report.facts if f.source.startswith("text!"))
    # the identities confirm most figures: those are not approximate
    confirmed = [f for f in ocr_facts if not f.approximate]
    assert len(confirmed) >= 0.9 * len(ocr_facts)
    assert all(float(f.value) == float(expected[(f.table, *f.dims.values())]) for f in confirmed
               if (f.table, *f.dims.values()) in expected)
    assert any("read by OCR" in note for note in report.notes)
    assert not any(c.check_name == "requests_applicant_columns" and not c.passed for c in report.checks) or wrong


@pytest.mark.slow
@needs_tesseract
@needs_cjk_font
def test_image_report_page(page_jpeg):
    """A report page published as an image (its title, tables 三 and 四)."""
    report = parse_bytes(page_jpeg, "report.jpg")
    assert report.status == "parsed" and report.input_kind == "image"
    assert report.era == "table_2021" and report.report_year == 2022
    expected = expected_facts()
    got = {(f.table, *f.dims.values()): f for f in report.facts if f.table == "requests"}
    on_page = {k: v for k, v in expected.items() if k in got}
    assert len(on_page) >= 0.95 * 7 * 25
    right = sum(float(got[k].value) == float(v) for k, v in on_page.items())
    assert right / len(on_page) >= 0.99
    assert not [f.source for f in got.values() if f.source.startswith("table") and not PROVENANCE.match(f.source)]


@pytest.mark.slow
@needs_tesseract
@needs_cjk_font
def test_cli_parse_image_json(page_jpeg, tmp_path):
    path = tmp_path / "page.png"
    from PIL import Image

    Image.open(io.BytesIO(page_jpeg)).save(path)
    proc = subprocess.run([sys.executable, "-m", "app.cli", "parse", str(path), "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["input_kind"] == "image" and out["era"] == "table_2021"
    granted = [f for f in out["facts"] if f["table"] == "requests" and f["row"] == "granted" and f["applicant"] == "total"]
    assert granted and granted[0]["value"] == 54 and " ocr p1 (" in granted[0]["source"]


# ------------------------------------------------------------------ hostile images

def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, with a few bytes of pixel data."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_huge_image_refused_from_its_header():
    data = _png_header(20_000, 20_000)
    start = time.process_time()
    with pytest.raises(DocumentTooLarge, match="20,000 x 20,000 pixels.*before decoding"):
        load_document(data, "scan.png")
    assert time.process_time() - start < 0.5
    report = parse_bytes(data, "scan.png")
    assert report.status == "unsupported" and "20,000 x 20,000" in report.notes[0]


def test_corrupt_and_truncated_images():
    from PIL import Image

    with pytest.raises(UnsupportedDocument, match="image cannot be"):
        load_document(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 50, "a.png")
    buf = io.BytesIO()
    Image.new("L", (400, 300), 200).save(buf, "PNG")
    with pytest.raises(UnsupportedDocument, match="image cannot be"):
        load_document(buf.getvalue()[:60], "a.png")
    buf = io.BytesIO()
    Image.effect_noise((400, 300), 60).save(buf, "JPEG")
    with pytest.raises(UnsupportedDocument, match="image cannot be decoded"):
        load_document(buf.getvalue()[:400], "a.jpg")
    report = parse_bytes(b"GIF89a" + b"\xff" * 100, "x.gif")
    assert report.status == "unsupported" and "image cannot be" in report.notes[0]


def test_gif_with_many_frames_refused():
    from PIL import Image

    frames = [Image.new("L", (64, 64), i * 4) for i in range(60)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(DocumentTooLarge, match="60 frames"):
        load_document(buf.getvalue(), "anim.gif")


def test_image_formats_detected():
    assert detect_kind(b"\x89PNG\r\n\x1a\n\0\0") == "image"
    assert detect_kind(b"\xff\xd8\xff\xe0\0\0") == "image"
    assert detect_kind(b"GIF87a\0\0") == detect_kind(b"GIF89a\0\0") == "image"
    assert detect_kind(b"RIFF\0\0\0\0WEBPVP8 ") == "image"
    assert detect_kind(b"<html><body>x</body></html>", "a.png") == "html"


@needs_tesseract
def test_photo_or_logo_is_no_report():
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 400), (30, 90, 160))
    draw = ImageDraw.Draw(image)
    draw.ellipse((200, 80, 440, 320), fill=(240, 200, 40))
    draw.rectangle((40, 340, 600, 380), fill=(255, 255, 255))
    buf = io.BytesIO()
    image.save(buf, "WEBP")
    with pytest.raises(UnsupportedDocument, match="no report text"):
        load_document(buf.getvalue(), "logo.webp")


@pytest.mark.slow
@needs_tesseract
@needs_cjk_font
def test_ocr_past_its_time_limit_is_refused(page_jpeg):
    limits = dataclasses.replace(DEFAULT_LIMITS, max_ocr_seconds=0.3)
    start = time.monotonic()
    with pytest.raises(DocumentTooLarge, match="OCR ran past its time limit"):
        load_document(page_jpeg, "page.jpg", limits=limits)
    assert time.monotonic() - start < 10


@pytest.mark.slow
@needs_tesseract
@needs_cjk_font
def test_worker_time_limit_quarantines_an_ocr_document(page_jpeg, tmp_path):
    """The parse worker's wall-clock limit is the backstop: a document whose OCR outlasts it ends
    as `timeout` (a LIMIT_REASONS quarantine), and the worker's tesseract dies with it."""
    from warehouse.stages.workers import LIMIT_REASONS, DocLimits, Task, WorkerPool

    body = tmp_path / "page.jpg"
    body.write_bytes(page_jpeg)
    task = Task(key="a" * 64, path=str(body), filename="page.jpg", content_type="image/jpeg",
                out=str(tmp_path / "out.json"))
    with WorkerPool(DocLimits(timeout=1.5, memory_mb=1024, workers=1)) as pool:
        outcomes = list(pool.run([task]))
    assert [o.status for o in outcomes] == ["timeout"] and "timeout" in LIMIT_REASONS
    assert not (tmp_path / "out.json").exists()


# ------------------------------------------------------------------ pixels and flags

def test_rulings_and_deskew_from_pixels():
    import numpy as np
    from PIL import Image, ImageDraw

    from warehouse.parse import ocr

    image = Image.new("L", (1000, 700), 255)
    draw = ImageDraw.Draw(image)
    for y in (100, 160, 220, 280):
        draw.line((100, y, 900, y), fill=0, width=2)
    for x in (100, 400, 650, 900):
        draw.line((x, 100, x, 280), fill=0, width=2)
    draw.text((120, 120), "ABC 123", fill=0)
    tilted = np.asarray(image.rotate(1.0, resample=Image.BICUBIC, fillcolor=255))
    straight, angle = ocr.deskew(tilted)
    assert abs(angle + 1.0) <= 0.1
    rulings, mask = ocr.find_rulings(ocr._dark(straight), 50, scale=1.0)
    horizontal = [r for r in rulings if r.top == r.bottom]
    vertical = [r for r in rulings if r.x0 == r.x1]
    assert len(horizontal) == 4 and len(vertical) == 4
    assert sorted(round(r.top) for r in horizontal) == pytest.approx([101, 161, 221, 281], abs=3)
    assert all(r.x1 - r.x0 > 780 for r in horizontal)
    assert mask[101, 500] and not mask[130, 130]     # the rules, not the text


def test_a_cell_of_one_horizontal_stroke_is_a_dash():
    """The dash of a zero is told by its shape, not by OCR (which reads it as 一, <, 宕 or nothing)."""
    import numpy as np
    from PIL import Image, ImageDraw

    from warehouse.parse import ocr

    def cell(draw_it, size=(80, 38)):
        image = Image.new("L", size, 255)
        draw_it(ImageDraw.Draw(image))
        return np.asarray(image) < 128

    assert ocr._is_dash(cell(lambda d: d.line((25, 19, 55, 19), fill=0, width=3)))
    with_specks = cell(lambda d: (d.line((25, 19, 55, 19), fill=0, width=3), d.point([(5, 5), (70, 30)], fill=0)))
    assert ocr._is_dash(with_specks)
    assert not ocr._is_dash(cell(lambda d: d.line((38, 8, 38, 30), fill=0, width=3)))            # a 1
    assert not ocr._is_dash(cell(lambda d: d.line((38, 19, 42, 19), fill=0, width=2)))            # a speck
    assert not ocr._is_dash(cell(lambda d: [d.line((x, 19, x + 8, 19), fill=0, width=3)          # strokes of text
                                            for x in range(10, 70, 12)]))
    assert not ocr._is_dash(cell(lambda d: d.rectangle((20, 12, 60, 26), fill=0)))                # a block
    # one line of text in a tall merged cell: a band with gaps, not a stroke
    text_line = cell(lambda d: d.text((10, 140), "(三)不予公开", fill=0), size=(120, 300))
    assert text_line.any() and not ocr._is_dash(text_line)


def _ocr_document(grid: list[list[str]]) -> Document:
    boxes = [[(10.0 * c, 10.0 * r, 10.0 * c + 9, 10.0 * r + 9) for c in range(len(row))] for r, row in enumerate(grid)]
    confidence = [[0.9 for _ in row] for row in grid]
    table = Table(index=1, rows=grid, page=2, boxes=boxes, confidence=confidence)
    return Document(kind="image", text=TITLE + "\n" + table.as_text(), tables=[table])


def test_identities_confirm_ocr_figures_and_flag_the_rest():
    """Without OCR: a Document as the OCR reader gives it. The row whose applicant columns do not
    add up stays approximate; rows an identity confirms do not; sources carry page, box, confidence."""
    grid = [["", "", "", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"],
            ["一、本年新收政府信息公开申请数量", "", "", "12", "3", "0", "0", "1", "0", "16"],
            ["二、上年结转政府信息公开申请数量", "", "", "2", "0", "0", "0", "0", "0", "2"],
            ["三、本年度办理结果", "（一）予以公开", "", "9", "2", "0", "0", "1", "0", "12"],
            ["三、本年度办理结果", "（二）部分公开", "", "1", "0", "0", "0", "0", "0", "7"]]   # 7: misread 1
    report = parse_document(_ocr_document(grid))
    facts = {(f.dims["row"], f.dims["applicant"]): f for f in report.facts if f.table == "requests"}
    assert facts[("received_new", "total")].value == 16
    assert not facts[("received_new", "total")].approximate          # 12+3+1 = 16
    assert not facts[("granted", "natural_person")].approximate       # 9+2+1 = 12
    assert facts[("partially_granted", "total")].approximate          # 1 != 7: which digit is wrong?
    assert facts[("partially_granted", "natural_person")].approximate
    source = facts[("granted", "total")].source
    assert re.match(r"^table1!r4c10 ocr p2 \(90,30,99,39\) conf 0\.90$", source), source
    assert any("OCR figures confirmed" in note for note in report.notes)


def test_text_layer_facts_are_not_flagged():
    grid = [["", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"],
            ["一、本年新收政府信息公开申请数量", "12", "3", "0", "0", "1", "0", "7"]]
    table = Table(index=1, rows=grid)
    report = parse_document(Document(kind="pdf", text=TITLE + "\n" + table.as_text(), tables=[table]))
    assert report.facts and not any(f.approximate or " ocr" in f.source for f in report.facts)


def test_ocr_is_not_imported_by_the_cli():
    code = "import sys, app.cli; print(any(m in sys.modules for m in ('numpy', 'PIL', 'warehouse.parse.images')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
