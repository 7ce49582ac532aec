"""OCR of page images (scanned PDF pages, report images): words with their boxes and the table
rulings drawn in the pixels, read into text and table grids by warehouse.parse.layout, the same
positioned reading as a PDF's text layer.

Engine: Debian's tesseract (5.x, packages `tesseract-ocr` and `tesseract-ocr-chi-sim`), run as a
subprocess with one thread, its models on disk (no download at run time). Measured against RapidOCR
(rapidocr-onnxruntime 1.4.4, PP-OCRv4 ONNX models in its wheel) on demo-portal table pages rendered
at 200 dpi with scan noise (0.5 deg rotation, blur, JPEG q=60), one core: tesseract read 96 % of the
table figures from the page alone at 3.4 s CPU a page, 99.5 % with the cell pass below at 8.5 s;
RapidOCR 46 % at 22 s a page, and it needs onnxruntime + opencv-python (~370 MB). `make bench`
(benchmarks/ocr.py) measures accuracy and speed again.

A page is read in steps, each bounded (DocumentLimits.max_image_pixels, max_ocr_page_pixels,
max_ocr_pages, max_ocr_seconds):

1. grey, deskewed (the angle whose row profile is sharpest, within +-3 degrees), enlarged by
   UPSCALE (table text of 7 pt is 19 px high at 200 dpi; tesseract reads best at about 30 px);
2. rulings: dark runs at least a quarter inch long, horizontal and vertical, joined across
   neighbouring rows/columns into segments (layout.Ruling), then erased from the image (table
   lines make tesseract read cells as glyphs);
3. the page pass: tesseract's words (TSV, automatic page segmentation) with boxes and confidences;
   layout.table_grids / page_text turn them into grids and text (coordinates in points: pixels
   at OCR_DPI, top-left origin);
4. the cell pass: a cell whose only ink is one thin horizontal stroke is a dash (a zero), told by
   its shape (tesseract reads it as 一, <, 宕 or nothing); every other table cell with ink is cut
   out and the cuts are stacked into sheets, one read in Chinese (labels, headers), one with
   digits only (cells of figure columns from their first figure down; doubtful ones once more,
   enlarged; those still unread one by one, at most MAX_SINGLE_READS a page): three more
   tesseract runs a page, and a few single ones. A cell read alone replaces the page pass's
   reading of it (the page pass garbles a header cell spanning three rows, and reads a lone `1`
   between rules as `到`).

Provenance: every grid keeps each cell's box and its lowest word confidence; flag_ocr_facts
(called by warehouse.parse.parse_document) puts them in each fact's source (`table3!r5c2 ocr p2
(x0,y0,x1,y1) conf 0.93`) and leaves a figure `approximate` unless an identity of its report
confirms it.

Nothing here is imported at CLI start-up: numpy and PIL are imported by the functions that use
them, tesseract is looked for once per process (`engine()`), and run only for image inputs.
"""
from __future__ import annotations

import bisect
import functools
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field

from warehouse.parse.documents import (
    DEFAULT_LIMITS,
    DocumentLimits,
    DocumentTooLarge,
    UnsupportedDocument,
)
from warehouse.parse.layout import PositionedGrid, Ruling, Word, page_text, table_grids

OCR_DPI = 200                  # PDF pages are rendered at this; an image's pixels are read as if at it
PT_PER_PX = 72 / OCR_DPI
# How the cells of figure columns are read again (one tesseract run over them stacked).
FIGURE_ARGS = ["-l", "eng", "--psm", "6", "-c", "tessedit_char_whitelist=0123456789.,-/"]
SINGLE_FIGURE_ARGS = ["-l", "eng", "--psm", "10", "-c", "tessedit_char_whitelist=0123456789.,-/"]   # one cell alone
# Page segmentation of the page pass: 3 (automatic) reads a large title as one line, where 6 (one
# uniform block) cuts it in two; the table cells are read again on their own anyway.
PAGE_PSM = "3"
UPSCALE = 1.5                  # pages are OCR'd enlarged by this (within max_ocr_page_pixels)
ENGINE = "tesseract"
LANGUAGE = "chi_sim"
# A note that a page's words come from OCR: parse_document flags the figures of such documents.
OCR_NOTE = "read by OCR"
# Words an annual report's page prints (an image without any is not a report page).
REPORT_WORDS = ("政府信息", "信息公开", "公开", "申请", "年度报告", "行政复议", "行政诉讼", "主动公开", "依申请")
_FIGURE = re.compile(r"^(?:[-+]?\d[\d,，]*(?:[.．]\d+)?%?|[/／—–\-－无])$")
DASH = "—"
MAX_SINGLE_READS = 60          # figure cells a page reads one by one when the sheets did not read them
_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "〇": "0", "l": "1", "I": "1", "|": "1", "，": ",", "．": "."})


class OcrUnavailable(UnsupportedDocument):
    """The OCR engine (tesseract with chi_sim) is not installed."""


@dataclass
class OcrPage:
    number: int
    text: str
    grids: list[PositionedGrid] = field(default_factory=list)
    words: int = 0
    seconds: float = 0.0


# ------------------------------------------------------------------------------------ engine

@functools.lru_cache(maxsize=1)
def engine() -> str:
    """The tesseract binary, checked once per process to hold the chi_sim language."""
    binary = shutil.which("tesseract")
    if binary is None:
        raise OcrUnavailable("OCR engine not installed (Debian packages tesseract-ocr, tesseract-ocr-chi-sim)")
    try:
        langs = subprocess.run([binary, "--list-langs"], capture_output=True, timeout=30, text=True, check=False).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise OcrUnavailable(f"OCR engine does not run: {exc}") from exc
    if LANGUAGE not in langs.split():
        raise OcrUnavailable("OCR engine lacks Chinese (Debian package tesseract-ocr-chi-sim)")
    return binary


def available() -> bool:
    try:
        engine()
    except OcrUnavailable:
        return False
    return True


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG: a killed worker takes tesseract along
    except Exception:
        pass


def _tesseract(png: bytes, args: list[str], timeout: float) -> str:
    """tesseract's TSV for one PNG, one thread; subprocess.TimeoutExpired past `timeout` s."""
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    proc = subprocess.run([engine(), "stdin", "stdout", *args, "tsv"], input=png, capture_output=True,
                          timeout=max(timeout, 0.1), env=env, preexec_fn=_die_with_parent, check=False)
    if proc.returncode != 0:
        raise UnsupportedDocument(f"OCR failed: {proc.stderr.decode('utf-8', 'replace').strip()[:200]}")
    return proc.stdout.decode("utf-8", "replace")


def _tsv_words(tsv: str, scale: float = PT_PER_PX, dx: float = 0, dy: float = 0) -> list[Word]:
    """Tesseract's words in points; each word's top and bottom are its line's (glyph boxes are
    tight to the ink: 人 stands higher than 自然 beside it, and would be read as a line of its own).
    Where tesseract read one place twice (a large title can come out as two overlapping lines),
    the less confident reading is dropped."""
    lines: dict[tuple[str, ...], tuple[int, int]] = {}
    raw = []
    for line in tsv.splitlines()[1:]:
        f = line.split("\t")
        if len(f) < 12:
            continue
        left, top, width, height = (int(v) for v in f[6:10])
        if f[0] == "4":
            lines[tuple(f[1:5])] = (top, top + height)
        if f[0] != "5" or not f[11].strip():
            continue
        conf = max(0.0, min(1.0, float(f[10]) / 100))
        raw.append((left, top, left + width, top + height, f[11].strip(), round(conf, 3), tuple(f[1:5])))
    words = []
    for left, top, right, bottom, text, conf, key in _drop_overlaps(raw):
        top, bottom = lines.get(key, (top, bottom))
        words.append(Word((left + dx) * scale, (top + dy) * scale, (right + dx) * scale, (bottom + dy) * scale, text, conf))
    return words


def _drop_overlaps(raw: list[tuple]) -> list[tuple]:
    """Words (x0, top, x1, bottom, text, conf, line) without those that overlap a more confident
    word by half of the smaller box in both directions."""
    order = sorted(range(len(raw)), key=lambda i: raw[i][1])
    dropped: set[int] = set()
    for n, i in enumerate(order):
        a = raw[i]
        for j in order[n + 1:]:
            b = raw[j]
            if b[1] >= a[3]:
                break
            if i in dropped or j in dropped or a[6] == b[6]:
                continue
            dx = min(a[2], b[2]) - max(a[0], b[0])
            dy = min(a[3], b[3]) - max(a[1], b[1])
            if dx * 2 >= min(a[2] - a[0], b[2] - b[0]) and dy * 2 >= min(a[3] - a[1], b[3] - b[1]) and dx > 0:
                dropped.add(i if a[5] < b[5] else j)
    return [w for i, w in enumerate(raw) if i not in dropped]


# A blank OCR put between two Chinese characters (or their punctuation): not in the printed text.
_CJK = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"
_CJK_GAP = re.compile(rf"(?<={_CJK}) +(?={_CJK})|(?<={_CJK}) +(?=[()\d])|(?<=[()\d]) +(?={_CJK})")


def squeeze(text: str) -> str:
    """OCR text without the blanks it puts between Chinese characters."""
    return _CJK_GAP.sub("", text)


# ------------------------------------------------------------------------------------ pixels

def _png(array) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def _dark(grey, threshold: int | None = None):
    """Ink mask: pixels darker than Otsu's threshold (at most 200)."""
    import numpy as np

    if threshold is None:
        hist = np.bincount(grey.ravel(), minlength=256).astype(np.float64)
        total = hist.sum()
        levels = np.arange(256)
        w0 = np.cumsum(hist)
        m0 = np.cumsum(hist * levels)
        w1 = total - w0
        with np.errstate(divide="ignore", invalid="ignore"):
            between = (m0[-1] * w0 - total * m0) ** 2 / (w0 * w1)
        between[~np.isfinite(between)] = 0
        threshold = min(int(between.argmax()), 200)
    return grey <= threshold


def deskew(grey, max_angle: float = 3.0):
    """`grey` (uint8 array) rotated by the small angle that makes its row profile sharpest (text
    lines and table rules horizontal); the angle in degrees."""
    import numpy as np
    from PIL import Image

    h, w = grey.shape
    factor = min(1.0, 1000 / max(w, 1))
    small = Image.fromarray((_dark(grey) * 255).astype(np.uint8))
    if factor < 1:
        small = small.resize((max(1, int(w * factor)), max(1, int(h * factor))), Image.BILINEAR)

    def sharpness(angle: float) -> float:
        rows = np.asarray(small.rotate(angle, resample=Image.NEAREST, fillcolor=0), dtype=np.float32).sum(axis=1)
        return float(np.square(np.diff(rows)).sum())

    best = max((a / 4 for a in range(int(-max_angle * 4), int(max_angle * 4) + 1)), key=sharpness)
    best = max((best + a / 20 for a in range(-5, 6)), key=sharpness)
    if abs(best) < 0.05:
        return grey, 0.0
    rotated = Image.fromarray(grey).rotate(best, resample=Image.BICUBIC, fillcolor=255)
    return np.asarray(rotated), best


def _runs(mask_row):
    import numpy as np

    padded = np.concatenate(([False], mask_row, [False]))
    changes = np.flatnonzero(padded[1:] != padded[:-1])
    return changes[0::2], changes[1::2]


def _long_runs(dark, length: int):
    """Pixels of horizontal dark runs at least `length` long."""
    import numpy as np

    h, w = dark.shape
    if w < length:
        return np.zeros_like(dark)
    cs = np.zeros((h, w + 1), dtype=np.int32)
    np.cumsum(dark, axis=1, out=cs[:, 1:])
    full = (cs[:, length:] - cs[:, :-length]) == length          # window starting at j all dark
    cf = np.zeros((h, full.shape[1] + 1), dtype=np.int32)
    np.cumsum(full, axis=1, out=cf[:, 1:])
    out = np.zeros_like(dark)
    # pixel x is covered when some full window starts in [x - length + 1, x]
    hi = np.minimum(np.arange(w) + 1, full.shape[1])
    lo = np.maximum(np.arange(w) - length + 1, 0)
    out[:, :] = (cf[:, hi] - cf[:, lo]) > 0
    return out


def _segments(mask, gap: int = 2) -> list[tuple[int, int, int, int]]:
    """Horizontal segments (x0, y0, x1, y1) of a run mask: the runs of neighbouring rows
    (within `gap` rows) that overlap in x joined as one."""
    import numpy as np

    done: list[list[int]] = []
    active: list[list[int]] = []   # [x0, y0, x1, y1]
    for y in np.flatnonzero(mask.any(axis=1)):
        y = int(y)
        starts, ends = _runs(mask[y])
        still = [s for s in active if y - s[3] <= gap]
        done += [s for s in active if y - s[3] > gap]
        active = still
        for x0, x1 in zip(starts.tolist(), ends.tolist()):
            joined = None
            for seg in active:
                if x0 <= seg[2] and x1 >= seg[0]:
                    if joined is None:
                        seg[0], seg[2], seg[3] = min(seg[0], x0), max(seg[2], x1), y
                        joined = seg
                    else:   # the run bridges two segments: one segment
                        joined[0], joined[1], joined[2] = min(joined[0], seg[0]), min(joined[1], seg[1]), max(joined[2], seg[2])
                        seg[2] = -1
            active = [s for s in active if s[2] >= 0]
            if joined is None:
                active.append([x0, y, x1, y])
    done += active
    return [tuple(s) for s in done]


def find_rulings(dark, min_length: int, scale: float = PT_PER_PX) -> tuple[list[Ruling], object]:
    """Horizontal and vertical table rules among the ink (runs of at least `min_length` px), as
    layout.Ruling segments in points along each rule's middle, and the mask of their pixels."""
    import numpy as np

    horizontal = _long_runs(dark, min_length)
    vertical = _long_runs(dark.T, min_length).T
    rulings = []
    for x0, y0, x1, y1 in _segments(horizontal):
        mid = (y0 + y1 + 1) / 2 * scale
        rulings.append(Ruling(x0 * scale, mid, x1 * scale, mid))
    for y0, x0, y1, x1 in _segments(vertical.T):
        mid = (x0 + x1 + 1) / 2 * scale
        rulings.append(Ruling(mid, y0 * scale, mid, y1 * scale))
    mask = horizontal | vertical
    if mask.any():  # the rules' anti-aliased fringe too
        grown = mask.copy()
        grown[1:, :] |= mask[:-1, :]
        grown[:-1, :] |= mask[1:, :]
        grown[:, 1:] |= mask[:, :-1]
        grown[:, :-1] |= mask[:, 1:]
        mask = grown
    return rulings, np.asarray(mask)


# ------------------------------------------------------------------------------------ pages

class _Budget:
    """The document's OCR time (wall clock, as the worker's limit is): pages after it are not read."""

    def __init__(self, limits: DocumentLimits):
        self.limits = limits
        self.start = time.monotonic()
        self.pages = 0

    def left(self) -> float:
        return self.limits.max_ocr_seconds - (time.monotonic() - self.start)


def read_page(image, number: int, limits: DocumentLimits, notes: list[str], budget: _Budget | None = None
              ) -> OcrPage:
    """OCR one page image (PIL): its text and table grids (see the module docstring)."""
    import numpy as np
    from PIL import Image

    budget = budget or _Budget(limits)
    started = time.monotonic()
    width, height = image.size
    if width * height > limits.max_ocr_page_pixels:   # read at the largest size allowed
        factor = (limits.max_ocr_page_pixels / (width * height)) ** 0.5
        image = image.resize((max(1, int(width * factor)), max(1, int(height * factor))), Image.BILINEAR)
        notes.append(f"page {number}: {width:,} x {height:,} pixels read at {image.size[0]:,} x {image.size[1]:,}"
                     f" (limit {limits.max_ocr_page_pixels:,} pixels)")
    grey = np.asarray(image.convert("L"))
    grey, angle = deskew(grey)
    # Table text is small (7 pt: 19 px at 200 dpi); tesseract reads it best at about 30 px:
    # the page is read enlarged by UPSCALE when that stays within the page pixel bound.
    scale = PT_PER_PX
    factor = min(UPSCALE, (limits.max_ocr_page_pixels / grey.size) ** 0.5)
    if factor > 1.05:
        big = Image.fromarray(grey).resize((int(grey.shape[1] * factor), int(grey.shape[0] * factor)), Image.BICUBIC)
        grey, scale = np.asarray(big), PT_PER_PX / factor
    dark = _dark(grey)
    rulings, rule_mask = find_rulings(dark, max(20, int(0.25 * 72 / scale)), scale)
    clean = grey.copy()
    clean[rule_mask] = 255
    left = budget.left()
    if left <= 0:
        raise _OutOfTime()
    try:
        tsv = _tesseract(_png(clean), ["-l", LANGUAGE, "--psm", PAGE_PSM], min(left, limits.max_ocr_seconds))
    except subprocess.TimeoutExpired as exc:
        raise _OutOfTime() from exc
    words = _tsv_words(tsv, scale)
    grids = table_grids(words, rulings, limits, notes, page=number)
    for grid in grids:
        grid.rows = [[squeeze(text) for text in row] for row in grid.rows]
    reread = _read_cells(grids, clean, dark & ~rule_mask, scale, budget)
    text = "\n".join(squeeze(line) for line in page_text(words).splitlines())
    seconds = time.monotonic() - started
    notes.append(f"page {number}: {OCR_NOTE} ({ENGINE} {LANGUAGE}, {len(words)} words, {len(grids)} tables,"
                 f" {reread} cells changed by reading them alone{f', deskewed {angle:+.2f} deg' if angle else ''},"
                 f" {seconds:.1f} s)")
    return OcrPage(number, text, grids, len(words), seconds)


class _OutOfTime(Exception):
    pass


def _figure_columns(grid: PositionedGrid) -> dict[int, int]:
    """Columns most of whose filled cells are figures -> the row of their first figure."""
    out = {}
    for c in range(1, len(grid.rows[0]) if grid.rows else 0):
        cells = [(r, row[c]) for r, row in enumerate(grid.rows) if row[c]]
        figures = [r for r, text in cells if _FIGURE.match(text.translate(_LOOKALIKES).replace(" ", ""))]
        if figures and len(figures) * 2 >= len([r for r, _ in cells if r >= figures[0]]):
            out[c] = figures[0]
    return out


_LIST_NUMBER = re.compile(r"^([1-9])(?=[\u4e00-\u9fff]{2})")


def _stack(crops: list, gap: int = 24):
    """Crops (uint8 arrays) one under the other on a white sheet: the sheet and each crop's rows."""
    import numpy as np

    height = sum(c.shape[0] + gap for c in crops) + gap
    width = max(c.shape[1] for c in crops) + 2 * gap
    sheet = np.full((height, width), 255, dtype=np.uint8)
    spans, y = [], gap
    for crop in crops:
        sheet[y:y + crop.shape[0], gap:gap + crop.shape[1]] = crop
        spans.append((y, y + crop.shape[0]))
        y += crop.shape[0] + gap
    return sheet, spans


def _read_sheet(crops: list, args: list[str], budget: _Budget, gap: int = 24) -> list[tuple[str, float | None]]:
    """Each crop's text (lines joined, Chinese blanks squeezed) and lowest confidence, by one
    tesseract run over the crops stacked."""
    if not crops:
        return []
    sheet, spans = _stack(crops, gap)
    left = budget.left()
    if left <= 0:
        raise _OutOfTime()
    try:
        tsv = _tesseract(_png(sheet), args, left)
    except subprocess.TimeoutExpired as exc:
        raise _OutOfTime() from exc
    found: list[list[Word]] = [[] for _ in crops]
    tops = [top for top, _ in spans]
    for word in _tsv_words(tsv, scale=1.0):
        middle = (word.top + word.bottom) / 2
        i = max(0, min(len(spans) - 1, bisect.bisect_right(tops, middle + gap / 2) - 1))
        found[i].append(word)
    out = []
    for words in found:
        words.sort(key=lambda w: (round(w.top / 4), w.x0))
        text = squeeze("".join(w.text if not _out_space(prev, w) else " " + w.text
                               for prev, w in zip([None] + words[:-1], words)))
        out.append((text.strip(), min((w.confidence for w in words), default=None)))
    return out


def _out_space(prev: Word | None, word: Word) -> bool:
    """A blank between two words of one line of a cell (Latin words, figures apart)."""
    return prev is not None and abs(prev.top - word.top) < 4 and word.x0 - prev.x1 > (word.bottom - word.top) * 0.6


def _enlarged(crop, factor: int = 2):
    import numpy as np
    from PIL import Image

    return np.asarray(Image.fromarray(crop).resize((crop.shape[1] * factor, crop.shape[0] * factor), Image.BICUBIC))


def _is_dash(sub) -> bool:
    """The ink of a cell (`sub`, a boolean array) is one horizontal stroke, give or take a few specks:
    the rows holding most of it form an unbroken band (text has gaps between and within its
    characters) at least four times as wide as it is thick, thinner than a fifth of the cell and
    wider than a third of its height."""
    per_row = sub.sum(axis=1)
    band = (per_row * 3 >= per_row.max()).nonzero()[0]
    top, bottom = int(band.min()), int(band.max()) + 1
    if per_row[top:bottom].sum() * 5 < per_row.sum() * 4:   # more than specks outside it
        return False
    inked = sub[top:bottom].any(axis=0)
    columns = inked.nonzero()[0]
    left, right = int(columns.min()), int(columns.max()) + 1
    thick, wide, height = bottom - top, right - left, sub.shape[0]
    return (wide >= 4 * thick and thick * 5 <= height and wide * 3 >= height
            and inked[left:right].sum() * 10 >= wide * 9)


def _read_cells(grids: list[PositionedGrid], clean, ink, scale: float, budget: _Budget) -> int:
    """Every table cell read again on its own: the cells with ink cut out (the rules are erased)
    and stacked into two sheets, one read in Chinese (labels, headers) and one with digits only
    (the cells of figure columns from their first figure down). A cell read this way replaces the
    page's reading of it (psm 6 reads a page as lines, and a header cell spanning three rows, or
    a lone `1` between rules, comes out garbled): a figure cell keeps the page's reading unless
    the digits read a figure. Returns how many cells changed."""
    import numpy as np

    h, w = ink.shape

    def pixels(box: tuple) -> tuple[int, int, int, int] | None:
        x0, y0, x1, y1 = (round(v / scale) for v in box)
        x0, y0, x1, y1 = max(x0 + 2, 0), max(y0 + 2, 0), min(x1 - 1, w), min(y1 - 1, h)
        return (x0, y0, x1, y1) if x1 - x0 >= 4 and y1 - y0 >= 4 else None

    # a cell whose only ink is one thin horizontal stroke is a dash (a zero), which tesseract reads
    # as 一, <, 宕 … or not at all; known before the figure columns are, it is not read again
    changed, dashes = 0, set()
    for grid in grids:
        for r, row in enumerate(grid.rows):
            for c in range(len(row)):
                box = grid.boxes[r][c] if grid.boxes else None
                if box is not None and box not in dashes and (at := pixels(box)):
                    # on the ink mask, or on solid ink only (a JPEG's halo can blur a stroke's edges)
                    for mask in (ink[at[1]:at[3], at[0]:at[2]], clean[at[1]:at[3], at[0]:at[2]] < 128):
                        if mask.sum() >= 6 and _is_dash(mask):
                            dashes.add(box)
                            break
                if box in dashes:
                    changed += row[c] != DASH
                    row[c] = DASH
                    if grid.confidence:
                        grid.confidence[r][c] = 1.0
    kinds: dict[tuple, str] = {}
    where: dict[tuple, list[tuple[int, int, int]]] = {}    # box -> [(grid, row, col)]
    for g, grid in enumerate(grids):
        figure_columns = _figure_columns(grid)
        for r, row in enumerate(grid.rows):
            for c in range(len(row)):
                box = grid.boxes[r][c] if grid.boxes else None
                if box is None or box in dashes:
                    continue
                text = row[c]
                figure = (c in figure_columns and r >= figure_columns[c]
                          and (len(text) <= 3 or bool(_FIGURE.match(text.translate(_LOOKALIKES).replace(" ", "")))))
                kinds[box] = "figure" if figure or kinds.get(box) == "figure" else "text"
                where.setdefault(box, []).append((g, r, c))
    crops: dict[str, list] = {"text": [], "figure": []}
    boxes: dict[str, list] = {"text": [], "figure": []}
    for box, kind in kinds.items():
        if (at := pixels(box)) is None:
            continue
        x0, y0, x1, y1 = at
        sub = ink[y0:y1, x0:x1]
        if sub.sum() < 6:        # nothing printed: a blank cell stays blank
            continue
        ys, xs = np.nonzero(sub)
        crops[kind].append(clean[y0 + max(ys.min() - 4, 0):y0 + ys.max() + 5, x0 + max(xs.min() - 4, 0):x0 + xs.max() + 5])
        boxes[kind].append(box)
    reads = {"figure": _read_sheet(crops["figure"], FIGURE_ARGS, budget)}
    # doubtful figures once more, enlarged: the more confident reading wins
    doubtful = [i for i, (text, conf) in enumerate(reads["figure"]) if not _FIGURE.match(text) or (conf or 0) < 0.8]
    if doubtful:
        bigger = [_enlarged(crops["figure"][i]) for i in doubtful]
        for i, (text, conf) in zip(doubtful, _read_sheet(bigger, FIGURE_ARGS, budget, gap=48)):
            old_text, old_conf = reads["figure"][i]
            if _FIGURE.match(text) and (not _FIGURE.match(old_text) or (conf or 0) > (old_conf or 0)):
                reads["figure"][i] = (text, conf)
    # still no figure: each alone, enlarged, as one character or word (a lone `1` among many crops
    # of a sheet is lost by the block reading, read alone it is not)
    unread = [i for i, (text, _) in enumerate(reads["figure"]) if not _FIGURE.match(text)][:MAX_SINGLE_READS]
    for i in unread:
        [(text, conf)] = _read_sheet([_enlarged(crops["figure"][i])], SINGLE_FIGURE_ARGS, budget, gap=20)
        if _FIGURE.match(text):
            reads["figure"][i] = (text, conf)
    # what read as no figure at all is read as text (a header in a figure column: 自然人)
    for i, (text, _) in enumerate(reads["figure"]):
        if not _FIGURE.match(text):
            crops["text"].append(crops["figure"][i])
            boxes["text"].append(boxes["figure"][i])
    reads["text"] = _read_sheet(crops["text"], ["-l", LANGUAGE, "--psm", "6"], budget)
    for kind in ("text", "figure"):
        for box, (text, conf) in zip(boxes[kind], reads[kind]):
            g, r, c = where[box][0]
            grid = grids[g]
            before = grid.rows[r][c]
            before_conf = grid.confidence[r][c] if grid.confidence else None
            if kind == "figure":
                fixed = before.translate(_LOOKALIKES).replace(" ", "")
                if not _FIGURE.match(text):
                    if _FIGURE.match(fixed) and any(ch.isdigit() for ch in before):   # 1O5 -> 105
                        text, conf = fixed, before_conf
                    else:
                        continue
                elif _FIGURE.match(before) and not before[:1].isdigit():
                    continue          # 无, —, / read by the page: the digits cannot say those
                elif _FIGURE.match(before) and before != text and (before_conf or 0) > (conf or 0):
                    continue
                elif before == text:
                    conf = max(conf or 0, before_conf or 0)
            elif not text:
                continue
            else:   # a list number's full stop is a speck OCR often drops: "3其他" is printed "3.其他"
                text = _LIST_NUMBER.sub(r"\1.", text)
            if text != before:
                changed += 1
            for g, r, c in where[box]:
                grids[g].rows[r][c] = text
                if grids[g].confidence:
                    grids[g].confidence[r][c] = conf
    return changed


def read_pages(images, limits: DocumentLimits, notes: list[str]) -> list[OcrPage]:
    """OCR page images [(number, PIL image | callable giving one)], within the document's OCR
    bounds: past max_ocr_pages or max_ocr_seconds the pages left are not read (a note says
    which); DocumentTooLarge when no page could be read in time."""
    engine()
    budget = _Budget(limits)
    pages: list[OcrPage] = []
    images = list(images)
    for i, (number, image) in enumerate(images):
        if i >= limits.max_ocr_pages:
            notes.append(f"pages {', '.join(str(n) for n, _ in images[i:])}: not read by OCR"
                         f" (limit {limits.max_ocr_pages} OCR pages a document)")
            break
        try:
            pages.append(read_page(image() if callable(image) else image, number, limits, notes, budget))
        except _OutOfTime:
            rest = ", ".join(str(n) for n, _ in images[i:])
            if not pages:
                raise DocumentTooLarge(f"OCR ran past its time limit ({limits.max_ocr_seconds:g} s a document)"
                                       f" before page {number} was read") from None
            notes.append(f"pages {rest}: not read by OCR (past its time limit of {limits.max_ocr_seconds:g} s a document)")
            break
    return pages


# ------------------------------------------------------------------------------------ PDF pages

def ocr_pdf_pages(data: bytes, page_numbers: list[int], limits: DocumentLimits = DEFAULT_LIMITS,
                  notes: list[str] | None = None) -> list[tuple[int, str, list[PositionedGrid]]]:
    """OCR pages of a PDF (1-based numbers): each rendered by pdfium at OCR_DPI (less when the
    page would pass max_ocr_page_pixels), then read_page. Returns [(number, text, grids)]."""
    import pypdfium2 as pdfium

    notes = notes if notes is not None else []
    engine()
    try:
        pdf = pdfium.PdfDocument(data)
    except Exception as exc:
        raise UnsupportedDocument(f"PDF cannot be rendered for OCR: {type(exc).__name__}: {exc}") from exc

    def render(index: int):
        def run():
            page = pdf[index]
            try:
                w_pt, h_pt = page.get_size()
                scale = OCR_DPI / 72
                pixels = w_pt * h_pt * scale * scale
                if pixels > limits.max_ocr_page_pixels:
                    scale *= (limits.max_ocr_page_pixels / pixels) ** 0.5
                return page.render(scale=scale, grayscale=True).to_pil()
            finally:
                page.close()
        return run

    try:
        pages = read_pages([(n, render(n - 1)) for n in page_numbers if 1 <= n <= len(pdf)], limits, notes)
    finally:
        pdf.close()
    return [(p.number, p.text, p.grids) for p in pages]


def looks_like_report(text: str) -> bool:
    squeezed = re.sub(r"\s+", "", text)
    return any(word in squeezed for word in REPORT_WORDS)


# ------------------------------------------------------------------------------------ facts

_TABLE_SOURCE = re.compile(r"^table(\d+)!r(\d+)c(\d+)$")


def is_ocr_document(doc) -> bool:
    """Whether some of the document's text was read by OCR (an image, or a PDF with OCR'd pages)."""
    return doc.kind == "image" or any(OCR_NOTE in note for note in doc.notes)


def flag_ocr_facts(facts: list, doc, era: str | None) -> int:
    """Mark the figures read by OCR: each one's source gets its provenance (`table3!r5c2 ocr p2
    (x0,y0,x1,y1) conf 0.93`: page, the cell's box in points from the page's top-left corner, the
    lowest OCR confidence of its words; text figures get ` ocr`), and each stays `approximate`
    unless an accounting identity of the report confirms it.

    Confirmed means: an identity (warehouse.checks.evaluate_checks, over the whole report and
    over the figure's own row, where `total = the applicant columns` is tested row by row) passes
    with the figure as read and fails with it changed by one. A digit no passing identity rests
    on (a lone figure, a row whose sum fails) is flagged, never silently trusted; values are never
    repaired. Returns how many OCR figures were confirmed."""
    ocr_tables = {t.index: t for t in doc.tables if getattr(t, "ocr", False)}
    text_ocr = is_ocr_document(doc)
    read: list = []
    for fact in facts:
        m = _TABLE_SOURCE.match(fact.source)
        if m and int(m.group(1)) in ocr_tables:
            table = ocr_tables[int(m.group(1))]
            r, c = int(m.group(2)) - 1, int(m.group(3)) - 1
            box = _cell(table.boxes, r, c)
            conf = _cell(table.confidence, r, c)
            where = f" ocr p{table.page or 1}"
            if box:
                where += " (" + ",".join(f"{v:.0f}" for v in box) + ")"
            if conf is not None:
                where += f" conf {conf:.2f}"
            read.append((fact, where))
        elif text_ocr and (fact.source.startswith("text!") or m):
            read.append((fact, " ocr"))
    if not read:
        return 0
    confirmed = _confirmed(facts, era, [fact for fact, _ in read])
    for fact, where in read:
        fact.source += where
        if id(fact) not in confirmed:
            fact.approximate = True
    return len(confirmed)


def _cell(grid, r: int, c: int):
    try:
        return grid[r][c] if grid else None
    except IndexError:
        return None


def _confirmed(facts: list, era: str | None, candidates: list) -> set[int]:
    """ids of the candidate facts some passing identity rests on (see flag_ocr_facts)."""
    from warehouse.checks import evaluate_checks

    def passing(group: list) -> set[str]:
        return {c.check_name for c in evaluate_checks(group, era) if c.passed}

    rows: dict[tuple, list] = {}
    for fact in facts:
        rows.setdefault((fact.table, next(iter(fact.dims.values()))), []).append(fact)
    whole = passing(facts)
    by_row = {key: passing(group) for key, group in rows.items()}
    out: set[int] = set()
    for fact in candidates:
        row = (fact.table, next(iter(fact.dims.values())))
        if not whole and not by_row[row]:
            continue
        value = fact.value
        fact.value = value + 1
        try:
            if (whole - passing(facts)) or (by_row[row] - passing(rows[row])):
                out.add(id(fact))
        finally:
            fact.value = value
    return out
