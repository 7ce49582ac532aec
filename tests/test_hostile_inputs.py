"""Hostile and broken input, end to end: a corpus of bad responses and bad documents
served on 127.0.0.1, crawled with `python -m spiders.run`, parsed and built.

For every case: no crash, nothing lost (what was fetched is in the archive and the
manifest) and a recorded reason — a manifest row with its status/error, a quarantine
row with reason/detail, or a note on the parsed report. Every document is also parsed
directly with warehouse.parse.parse_bytes, which must answer a ParsedReport, never raise.

The corpus is generated here (from the table fixtures where a valid report is needed).
"""
from __future__ import annotations

import gzip
import io
import json
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import duckdb
import pyarrow.parquet as pq
import pytest

from warehouse.storage.archive import RawArchive
from warehouse.stages.build import build_warehouse
from warehouse.facts import ParsedReport
from warehouse.parse import parse_bytes
from warehouse.stages.parse_archive import parse_archive

pytestmark = pytest.mark.slow  # crawls local servers

PROJECT = Path(__file__).resolve().parents[1]
TABLES = PROJECT / "tests" / "fixtures" / "tables"
COLUMN = "/xxgk/xxgknb/"
MAX_SIZE = 1_000_000          # --max-size for the crawl: the oversize cases are above it
DOWNLOAD_TIMEOUT = 1.5        # --download-timeout: the slow case sleeps beyond it
SLOW_SLEEP = 2.5
RETRY_TIMES = 3               # spiders.settings.COMMON
DEPTH_LIMIT = 5               # spiders.settings.COMMON
COPIES = 200
TRAP = "/trap/"
AGENCY = "云岭市示范区管委会"


def title(tag: str, year: int = 2022) -> str:
    return f"{AGENCY}{year}年政府信息公开工作年度报告（{tag}）"


# --------------------------------------------------------------------- documents

BASE_2021 = (TABLES / "report_2021_gbk.html").read_bytes().decode("gb18030").replace('<meta charset="utf-8">', "")
BASE_2019 = (TABLES / "report_2019.html").read_bytes().decode("utf-8")


def report_2021(tag: str, *, charset: str | None = None, mutate: Callable[[str], str] | None = None) -> str:
    """The 2021 fixture with a line naming the case (so each case has its own text)."""
    html = BASE_2021.replace('<div class="TRS_Editor">', f'<div class="TRS_Editor">\n<p>案例：{tag}</p>', 1)
    if charset:
        html = html.replace("<head>", f'<head>\n<meta http-equiv="Content-Type" content="text/html; charset={charset}">', 1)
    return mutate(html) if mutate else html


def report_2019(tag: str) -> str:
    return BASE_2019.replace("<h1>", f"<p>案例：{tag}</p>\n<h1>", 1)


def page(head_title: str, body: str, charset: str = "utf-8") -> str:
    return (f'<!DOCTYPE html>\n<html><head><meta charset="{charset}"><title>{head_title}</title></head>\n'
            f"<body>\n{body}\n</body></html>\n")


def requests_table_mutation(old: str, new: str) -> Callable[[str], str]:
    def mutate(html: str) -> str:
        assert old in html
        return html.replace(old, new, 1)
    return mutate


def truncated_mid_table() -> bytes:
    html = report_2021("truncated").encode("utf-8")
    return html[: html.index("三、本年度办理结果".encode("utf-8")) + 200]


def layout_table(html: str) -> str:
    """The whole report inside a one-cell layout table."""
    html = html.replace('<div class="TRS_Editor">', '<table class="layout"><tr><td><div class="TRS_Editor">', 1)
    return html.replace("</body>", "</td></tr></table></body>", 1)


def nested_tables(html: str) -> str:
    """Tables nested in cells of table 3: a one-cell frame around a figure, and a two-cell table."""
    html = html.replace("<td>25</td>", '<td><table><tr><td>25</td></tr></table></td>', 1)
    return html.replace("<td>3</td>", '<td><table><tr><td>3</td><td>附注</td></tr></table></td>', 1)


def empty_cells_table() -> str:
    cells = "".join("<tr>" + "<td></td>" * 100 + "</tr>" for _ in range(100))
    return page(title("empty-cells"), f"<h1>{title('empty-cells')}</h1>\n<p>二、主动公开政府信息情况</p>\n"
                f"<table>{cells}</table>")


def unclosed_tags(html: str) -> str:
    """Table 3 loses its </table>, </tr> and </td> tags; a <p> and a <div> are never closed."""
    start = html.index("<p>三、收到和处理政府信息公开申请情况</p>")
    end = html.index("</table>", start)
    middle = html[start:end].replace("</td>", "").replace("</tr>", "").replace("<p>", "<p><div>", 1)
    return html[:start] + middle + html[end + len("</table>"):]


_GARBAGE = ["abc", "1e309", "-0", "９９９９９９９９９９９９", "NaN", "１２三", "∞"]


def wrong_era_garbage() -> str:
    """A 2015 report (prose era) in the 2021 table layout, numbers replaced by garbage."""
    html = report_2021("wrong-era").replace("2022年", "2015年")
    counter = iter(range(10_000))
    return re.sub(r"<td>(\d+)</td>", lambda m: f"<td>{_GARBAGE[next(counter) % len(_GARBAGE)]}</td>", html)


def script_document_write() -> str:
    fake = "<table><tr><td>一、本年新收政府信息公开申请数量</td><td>987654</td></tr></table>"
    return page(title("script"), f"<h1>{title('script')}</h1>\n<p>三、收到和处理政府信息公开申请情况</p>\n"
                f"<script>document.write('{fake}');</script>\n<noscript>{fake}</noscript>")


def title_without_figures() -> str:
    return page(title("no-figures"), f"<h1>{title('no-figures')}</h1>\n<p>本机关依照《中华人民共和国政府信息公开条例》"
                "编制本报告。报告正文正在整理，敬请关注。</p>")


def enormous_line() -> bytes:
    line = "本机关主动公开政府信息情况良好，" * 15_000   # ~720 KB of UTF-8 on one line
    return page(title("one-line"), f"<h1>{title('one-line')}</h1><p>{line}主动公开政府信息12条。</p>").replace(
        "\n", " ").encode("utf-8")


def nul_bytes() -> bytes:
    html = report_2021("nul").encode("utf-8")
    return html.replace(b"<table>", b"<table>\x00", 3).replace(b"</p>", b"\x00</p>\x01", 5)


def binary_blob(size: int = 64 * 1024, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def pdf_bytes(draw: Callable, **canvas_kwargs) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, **canvas_kwargs)
    draw(c)
    c.showPage()
    c.save()
    return buf.getvalue()


def encrypted_pdf() -> bytes:
    return pdf_bytes(lambda c: c.drawString(72, 720, "2022 annual report, requests received 30"), encrypt="secret")


def image_only_pdf() -> bytes:
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader

    img = Image.new("RGB", (400, 200), "white")
    ImageDraw.Draw(img).rectangle((20, 20, 380, 180), outline="black", width=3)
    return pdf_bytes(lambda c: c.drawImage(ImageReader(img), 72, 500, 400, 200))


def corrupt_pdf() -> bytes:
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\n" + binary_blob(4096, seed=3)


def zip_not_docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "这不是 Word 文档")
    return buf.getvalue()


def fake_doc() -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + binary_blob(2048, seed=5)


def gbk(text: str) -> bytes:
    return text.encode("gb18030")


COPY_BODY = page(title("copy", 2014), f"<h1>{AGENCY}2014年政府信息公开工作年度报告</h1>\n"
                 "<p>二、主动公开政府信息情况</p><p>2014年，我委主动公开政府信息120条。</p>\n"
                 "<p>三、依申请公开政府信息情况</p><p>2014年，我委共收到政府信息公开申请5件，同意公开4件，不予公开1件。</p>")


# --------------------------------------------------------------------- the cases

@dataclass
class Case:
    name: str
    path: str
    body: bytes | None = None            # the document (None: the server answers something special)
    content_type: str | None = "text/html"
    status: int = 200
    headers: dict = field(default_factory=dict)
    special: str | None = None           # how the server misbehaves (see Handler)
    # what must be recorded
    manifest_status: int | None = 200
    manifest_error: str | None = None    # regular expression the manifest row's error matches
    quarantine: tuple[str, str] | None = None  # (reason, substring of detail)
    report_note: str | None = None       # substring of the report's notes
    report: bool = False                 # parsed into a report (implied by report_note)
    failed_checks: bool = False          # the report breaks some of its identities (recorded in fct_check_results)
    facts: int | None = None             # the report has this many facts
    linked: bool = True                  # linked from the listing with a report title


def build_cases() -> list[Case]:
    html = "text/html; charset=utf-8"
    cases = [
        # --- broken HTML and charsets
        Case("truncated_mid_table", COLUMN + "truncated.html", truncated_mid_table(), html,
             report_note="truncated"),
        Case("gbk_declared_utf8", COLUMN + "gbk-as-utf8.html", gbk(report_2021("gbk-utf8", charset="utf-8")), html,
             report_note="declared utf-8"),
        Case("utf8_declared_gb2312", COLUMN + "utf8-as-gb2312.html", report_2019("utf8-gb2312").encode("utf-8"),
             "text/html; charset=gb2312", report_note="declared gb2312"),
        Case("missing_charset", COLUMN + "no-charset.html", gbk(report_2021("no-charset")), "text/html",
             report_note="no charset declared"),
        Case("binary_as_html", COLUMN + "binary.html", binary_blob(), html,
             quarantine=("unsupported", "not readable text")),
        Case("nul_bytes", COLUMN + "nul.html", nul_bytes(), html, report_note="control characters"),
        Case("enormous_single_line", COLUMN + "one-line.html", enormous_line(), html, report=True, facts=1),
        Case("script_document_write", COLUMN + "script.html", script_document_write().encode(), html,
             report_note="no figures found"),
        Case("title_without_figures", COLUMN + "no-figures.html", title_without_figures().encode(), html,
             report_note="no figures found"),
        Case("wrong_era_garbage_numbers", COLUMN + "garbage.html", wrong_era_garbage().encode(), html,
             report=True, failed_checks=True),
        Case("soft_404_as_pdf", COLUMN + "soft404.pdf",
             page("页面不存在", "<h1>404</h1><p>您访问的页面不存在或已删除。</p>").encode(), "text/html",
             quarantine=("not_a_report", "no report content")),
        # --- malformed tables
        Case("rowspan_999", COLUMN + "rowspan-999.html",
             report_2021("rowspan", mutate=requests_table_mutation('rowspan="22"', 'rowspan="999"')).encode(), html,
             report_note='rowspan="999"'),
        Case("colspan_negative", COLUMN + "colspan-negative.html",
             report_2021("colspan-neg", mutate=requests_table_mutation('colspan="7"', 'colspan="-1"')).encode(), html,
             report_note='colspan="-1"'),
        Case("colspan_abc", COLUMN + "colspan-abc.html",
             report_2021("colspan-abc", mutate=requests_table_mutation('colspan="5"', 'colspan="abc"')).encode(), html,
             report_note='colspan="abc"'),
        Case("unclosed_tags", COLUMN + "unclosed.html", report_2021("unclosed", mutate=unclosed_tags).encode(), html,
             report_note="not closed"),
        Case("report_in_layout_table", COLUMN + "layout.html", report_2021("layout", mutate=layout_table).encode(),
             html, report_note="nested table", facts=200),
        Case("nested_tables_in_cells", COLUMN + "nested.html", report_2021("nested", mutate=nested_tables).encode(),
             html, report_note="nested table", failed_checks=True),
        Case("table_of_10000_empty_cells", COLUMN + "empty-cells.html", empty_cells_table().encode(), html,
             report_note="no figures found"),
        # --- documents that are not what they say
        Case("empty_pdf", COLUMN + "empty.pdf", b"", "application/pdf", quarantine=("unsupported", "empty document")),
        Case("corrupt_pdf", COLUMN + "corrupt.pdf", corrupt_pdf(), "application/pdf",
             quarantine=("unsupported", "PDF cannot be read")),
        Case("encrypted_pdf", COLUMN + "encrypted.pdf", encrypted_pdf(), "application/pdf",
             quarantine=("unsupported", "encrypted")),
        Case("image_only_pdf", COLUMN + "scanned.pdf", image_only_pdf(), "application/pdf",
             quarantine=("unsupported", "no text layer")),
        Case("docx_not_zip", COLUMN + "not-zip.docx", "这是一段文字，不是 DOCX。".encode() * 20,
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             quarantine=("unsupported", "not a zip archive")),
        Case("zip_not_docx", COLUMN + "archive.zip", zip_not_docx(), "application/zip",
             quarantine=("unsupported", "DOCX cannot be read")),
        Case("doc_without_converter", COLUMN + "legacy.doc", fake_doc(), "application/msword",
             quarantine=("unsupported", ".doc")),
        Case("binary_pdf_as_text_html", COLUMN + "pdf-as-html.html", corrupt_pdf(), html,
             quarantine=("unsupported", "PDF cannot be read")),
        # --- responses that are not what they should be
        Case("over_size_cap_content_length", COLUMN + "huge.html", None, special="huge_with_length",
             manifest_status=None, manifest_error="larger than download max size"),
        Case("over_size_cap_streamed", COLUMN + "huge-streamed.html", None, special="huge_streamed",
             manifest_status=None, manifest_error="DownloadCancelledError.*DOWNLOAD_MAXSIZE"),
        Case("gzip_bomb", COLUMN + "bomb.html", None, special="gzip_bomb",
             manifest_status=None, manifest_error="exceeded DOWNLOAD_MAXSIZE.*during decompression"),
        Case("redirect_loop", COLUMN + "loop-a.html", None, special="loop",
             manifest_status=None, manifest_error="redirect loop"),
        Case("redirect_to_itself", COLUMN + "loop-self.html", None, special="self_loop",
             manifest_status=None, manifest_error="redirect loop"),
        Case("redirect_off_the_allow_list", COLUMN + "away.html", None, special="offsite",
             manifest_status=None, manifest_error="off the allow-list.*localhost"),
        Case("redirect_301_to_404", COLUMN + "moved.html", None, special="moved_to_404", manifest_status=404),
        Case("redirect_without_location", COLUMN + "no-location.html", None, special="no_location",
             manifest_status=302, manifest_error="HttpError"),
        Case("forbidden_403", COLUMN + "forbidden.html", b"<h1>403 Forbidden</h1>", status=403, manifest_status=403),
        Case("unavailable_503_forever", COLUMN + "unavailable.html", b"<h1>503</h1>", status=503,
             manifest_status=503),
        Case("slow_beyond_timeout", COLUMN + "slow.html", None, special="slow",
             manifest_status=None, manifest_error="TimeoutError"),
        Case("connection_closed_without_answer", COLUMN + "reset.html", None, special="reset",
             manifest_status=None, manifest_error="closed"),
        Case("body_shorter_than_content_length", COLUMN + "short.html", None, special="short_body",
             manifest_status=None, manifest_error="ResponseDataLossError"),
        Case("robots_forbidden", "/private/report.html", b"<h1>secret</h1>",
             manifest_status=None, manifest_error="robots.txt"),
    ]
    return cases


CASES = build_cases()
BY_PATH = {c.path: c for c in CASES}
LINK_ONLY = {  # links that must never be fetched (their targets exist, to catch a follow)
    "javascript_link": COLUMN + "js-target.html",
    "mailto_link": COLUMN + "mail-target.html",
    "offsite_link": "/offsite-target.html",
}


def listing_page(base: str) -> str:
    links = [f'<li><a href="{c.path}">{title(c.name)}</a></li>' for c in CASES if c.linked]
    links += [
        f"<li><a href=\"javascript:openReport('{LINK_ONLY['javascript_link']}')\">{title('javascript')}</a></li>",
        f'<li><a href="mailto:gk@example.org?subject={LINK_ONLY["mailto_link"]}">{title("mailto")}</a></li>',
        f'<li><a href="{base.replace("127.0.0.1", "localhost")}{LINK_ONLY["offsite_link"]}">{title("offsite")}</a></li>',
        f'<li><a href="{TRAP}index.html">历年年报</a></li>',
    ]
    links += [f'<li><a href="{COLUMN}copy.html?v={i}">{title(f"副本{i}", 2014)}</a></li>' for i in range(COPIES)]
    return page("示范区 信息公开年报", "<ul>\n" + "\n".join(links) + "\n</ul>")


def trap_page(n: int) -> str:
    """index_N links index_N+1, for ever."""
    return page(f"历年年报 第{n + 1}页", f'<p>第{n + 1}页</p><a href="index_{n + 1}.html">下一页</a>')


# --------------------------------------------------------------------- the server

class SiteServer(ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True


def make_handler(base_holder: list[str], log: list[tuple[str, str]]):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, status: int, body: bytes, content_type: str | None = "text/html; charset=utf-8",
                   headers: dict | None = None, length: bool = True):
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            if length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def redirect(self, status: int, location: str | None):
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            log.append((self.headers.get("Host", ""), self.path))
            path = urlsplit(self.path).path
            try:
                self.route(path)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the crawler gave up on this one (timeout, size cap)

        def route(self, path: str):
            base = base_holder[0]
            if not self.headers.get("Host", "").startswith("127.0.0.1"):
                self.answer(200, page("offsite", "<h1>must never be fetched</h1>").encode())
                return
            if path == "/robots.txt":
                self.answer(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
            elif path == COLUMN + "index.html":
                self.answer(200, listing_page(base).encode("utf-8"))
            elif path == COLUMN + "copy.html":
                self.answer(200, COPY_BODY.encode("utf-8"))
            elif path.startswith(TRAP):
                m = re.fullmatch(re.escape(TRAP) + r"index(?:_(\d+))?\.html", path)
                self.answer(200, trap_page(int(m.group(1) or 0)).encode()) if m else self.answer(404, b"")
            elif path in BY_PATH:
                self.case(BY_PATH[path])
            elif path in (COLUMN + "loop-b.html",):
                self.redirect(302, COLUMN + "loop-a.html")
            elif path == COLUMN + "moved-target.html":
                self.answer(404, b"<h1>404 Not Found</h1>")
            else:
                self.answer(404, b"<h1>404 Not Found</h1>")

        def case(self, case: Case):
            special = case.special
            if special is None:
                self.answer(case.status, case.body, case.content_type)
            elif special == "huge_with_length":
                self.answer(200, b"<p>" + b"x" * (MAX_SIZE * 3) + b"</p>")
            elif special == "huge_streamed":  # no Content-Length: the body ends when the connection closes
                self.answer(200, b"<p>" + b"x" * (MAX_SIZE * 3) + b"</p>", length=False)
            elif special == "gzip_bomb":
                self.answer(200, GZIP_BOMB, headers={"Content-Encoding": "gzip"})
            elif special == "loop":
                self.redirect(302, COLUMN + "loop-b.html")
            elif special == "self_loop":
                self.redirect(302, case.path)
            elif special == "offsite":
                self.redirect(302, base_holder[0].replace("127.0.0.1", "localhost") + COLUMN + "offsite-landing.html")
            elif special == "moved_to_404":
                self.redirect(301, COLUMN + "moved-target.html")
            elif special == "no_location":
                self.redirect(302, None)
            elif special == "slow":
                time.sleep(SLOW_SLEEP)
                self.answer(200, report_2021("slow").encode())
            elif special == "reset":
                self.close_connection = True  # closes without a status line
            elif special == "short_body":
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                self.wfile.write(b"<html><body><p>" + b"y" * 1000)
                self.close_connection = True
            else:
                raise AssertionError(special)

    return Handler


GZIP_BOMB = gzip.compress(b" " * (64 * 1024 * 1024), compresslevel=9)  # ~64 KB that inflate to 64 MB


@pytest.fixture(scope="module")
def hostile_site():
    base_holder: list[str] = [""]
    log: list[tuple[str, str]] = []
    server = SiteServer(("127.0.0.1", 0), make_handler(base_holder, log))
    base_holder[0] = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base_holder[0], log
    server.shutdown()
    server.server_close()


SOURCES = f"""
sources:
  - id: hostile
    name: 示范区 信息公开年报
    family: trs_static
    entry_urls: ["{{BASE}}{COLUMN}index.html"]
    allowed_domains: [127.0.0.1]
    enabled: true
"""


@pytest.fixture(scope="module")
def crawled(hostile_site, tmp_path_factory):
    """Crawl, parse and build once: (paths, server log, manifest rows, timings)."""
    base, log = hostile_site
    root = tmp_path_factory.mktemp("hostile")
    (root / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    timings = {}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "spiders.run", "--sources", str(root / "sources.yaml"),
                           "--archive", str(root / "raw"), "--run-id", "hostile", "--profile", "loopback",
                           "--base-url", base, "--max-size", str(MAX_SIZE),
                           "--download-timeout", str(DOWNLOAD_TIMEOUT)],
                          cwd=PROJECT, capture_output=True, text=True, timeout=120)
    timings["crawl"] = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-4000:]
    rows = pq.read_table(root / "raw" / "manifest" / "crawl-hostile.parquet").to_pylist()
    started = time.monotonic()
    summary = parse_archive(root / "raw", root / "parsed")
    timings["parse"] = time.monotonic() - started
    started = time.monotonic()
    stats = build_warehouse(root / "parsed", root / "warehouse.duckdb")
    timings["build"] = time.monotonic() - started
    print("timings", {k: round(v, 2) for k, v in timings.items()})
    return {"root": root, "log": log, "rows": rows, "stdout": done.stdout, "stderr": done.stderr,
            "summary": summary, "stats": stats, "timings": timings, "base": base}


def query(crawled, sql: str) -> list[dict]:
    with duckdb.connect(str(crawled["root"] / "warehouse.duckdb"), read_only=True) as con:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


# --------------------------------------------------------------------- tests

def test_corpus_is_large_enough():
    assert len(CASES) + len(LINK_ONLY) + 2 >= 30   # + the 200 copies and the pagination trap


@pytest.mark.parametrize("case", [c for c in CASES if c.body is not None], ids=lambda c: c.name)
def test_parse_bytes_never_raises(case):
    started = time.monotonic()
    report = parse_bytes(case.body, filename=case.path, content_type=case.content_type)
    assert time.monotonic() - started < 10
    assert isinstance(report, ParsedReport)
    assert report.status in ("parsed", "unsupported", "failed")
    if report.status != "parsed":
        assert report.notes
    if case.quarantine and case.quarantine[0] == "unsupported":
        assert report.status == "unsupported" and any(case.quarantine[1] in n for n in report.notes), report.notes
    if case.report_note:
        assert report.status == "parsed" and any(case.report_note in n for n in report.notes), report.notes


def test_crawl_finishes_and_records_every_case(crawled):
    rows = crawled["rows"]
    base = crawled["base"]
    by_url = {}
    for r in rows:
        by_url.setdefault(urlsplit(r["url"]).path + (f"?{urlsplit(r['url']).query}" if urlsplit(r["url"]).query else ""), r)
    problems = []
    for case in CASES:
        row = by_url.get(case.path)
        if row is None:
            problems.append(f"{case.name}: no manifest row")
            continue
        if row["status"] != case.manifest_status:
            problems.append(f"{case.name}: status {row['status']} != {case.manifest_status} ({row['error']})")
        if case.manifest_error and not re.search(case.manifest_error, row["error"] or "", re.I):
            problems.append(f"{case.name}: error {row['error']!r} lacks {case.manifest_error!r}")
        if row["status"] is None and not row["error"]:
            problems.append(f"{case.name}: neither status nor error")
    assert not problems, "\n".join(problems)
    assert crawled["timings"]["crawl"] < 45
    # no callback crashed on a hostile page (binary, NUL bytes, broken markup)
    assert "Spider error" not in crawled["stderr"] and "Traceback" not in crawled["stderr"], crawled["stderr"][-3000:]


def test_nothing_fetched_is_lost(crawled):
    """Every response the crawler got has a row; every row with a body has it in the archive."""
    archive = RawArchive(crawled["root"] / "raw")
    rows = crawled["rows"]
    for r in rows:
        if r["sha256"] is not None:
            assert archive.object_path(r["sha256"]).is_file()
            assert len(archive.read(r["sha256"])) == r["size"]
        else:
            assert r["error"], r
    recorded = {urlsplit(u).path + (f"?{urlsplit(u).query}" if urlsplit(u).query else "")
                for r in rows for u in (r["url"], r["final_url"]) if u}
    requested = {path for host, path in crawled["log"] if host.startswith("127.0.0.1")}
    # a redirect's intermediate hop (loop-b) is in the row's redirect chain, not a row of its own
    missing = requested - recorded - {COLUMN + "loop-b.html"}
    assert not missing, sorted(missing)


def test_links_that_must_not_be_followed(crawled):
    log = crawled["log"]
    assert not [p for host, p in log if not host.startswith("127.0.0.1")], "fetched off the allow-list"
    paths = [p for _, p in log]
    for name, target in LINK_ONLY.items():
        assert target not in paths, name
    assert "/private/report.html" not in paths
    assert COLUMN + "offsite-landing.html" not in paths


def test_retries_and_redirects(crawled):
    paths = [p for _, p in crawled["log"]]
    assert paths.count(COLUMN + "unavailable.html") == 1 + RETRY_TIMES
    assert paths.count(COLUMN + "slow.html") == 1 + RETRY_TIMES
    assert paths.count(COLUMN + "forbidden.html") == 1
    assert paths.count(COLUMN + "loop-a.html") <= 25   # bounded by REDIRECT_MAX_TIMES
    moved = next(r for r in crawled["rows"] if r["url"].endswith(COLUMN + "moved.html"))
    assert moved["final_url"].endswith(COLUMN + "moved-target.html")


def test_pagination_trap_is_bounded(crawled):
    trap = [r for r in crawled["rows"] if urlsplit(r["url"]).path.startswith(TRAP)]
    fetched = [r for r in trap if r["status"] == 200]
    assert len(fetched) == DEPTH_LIMIT   # trap index at depth 1 … index_4 at depth 5
    cut = [r for r in trap if r["status"] is None]
    assert len(cut) == 1 and "DEPTH_LIMIT" in cut[0]["error"], cut


def test_copies_with_query_strings_are_one_report(crawled):
    copies = [r for r in crawled["rows"] if urlsplit(r["url"]).path == COLUMN + "copy.html"]
    assert len(copies) == COPIES and {r["status"] for r in copies} == {200}
    assert len({r["sha256"] for r in copies}) == 1
    reports = query(crawled, "select report_id, report_source_count from dim_report where url like '%/copy.html?v=%'")
    assert len(reports) == 1 and reports[0]["report_source_count"] == COPIES


def test_parse_and_build_record_a_reason_for_every_document(crawled):
    assert crawled["stats"]["dim_report"]["rows"] > 0
    quarantine = {urlsplit(r["url"]).path: r for r in query(crawled, "select * from stg_quarantine")}
    reports = {urlsplit(r["url"]).path: r for r in query(crawled, "select report_id, url, notes, fact_count from stg_reports")}
    failing = {r["report_id"] for r in query(crawled, "select report_id from fct_check_results where not passed")}
    problems = []
    for case in CASES:
        r = reports.get(case.path)
        if (case.report or case.report_note) and r is None:
            problems.append(f"{case.name}: no report (quarantine: {quarantine.get(case.path)})")
            continue
        if case.facts is not None and r["fact_count"] != case.facts:
            problems.append(f"{case.name}: {r['fact_count']} facts, expected {case.facts}")
        if case.failed_checks and r["report_id"] not in failing:
            problems.append(f"{case.name}: no failed check recorded")
        if case.manifest_status == 200 and not (case.quarantine or case.report or case.report_note):
            problems.append(f"{case.name}: a fetched document without an expected outcome")
        if case.quarantine:
            q = quarantine.get(case.path)
            if q is None:
                problems.append(f"{case.name}: not quarantined (report: {reports.get(case.path)})")
            elif q["reason"] != case.quarantine[0] or case.quarantine[1] not in (q["detail"] or ""):
                problems.append(f"{case.name}: quarantined as {q['reason']}: {q['detail']!r}")
        if case.report_note:
            if case.report_note not in (r["notes"] or ""):
                problems.append(f"{case.name}: notes {r['notes']!r} lack {case.report_note!r}")
    assert not problems, "\n".join(problems)
    # nothing from a script reaches the facts
    assert not query(crawled, "select * from fct_requests where value = 987654")
    assert crawled["timings"]["parse"] + crawled["timings"]["build"] < 30


# --------------------------------------------------------------------- allow-list and circuit breaker (issue 13)

def crawl_summary(crawled) -> dict:
    return json.loads((crawled["root"] / "raw" / "manifest" / "crawl-hostile.summary.json").read_text(encoding="utf-8"))


def test_links_off_the_allow_list_are_recorded_with_the_reason(crawled):
    """The listing's report links to another host and to javascript: are not requested but leave
    a manifest row each, with the reason (spiders.origins); a mailto: link is no document."""
    offsite = crawled["base"].replace("127.0.0.1", "localhost") + LINK_ONLY["offsite_link"]
    refused = {r["url"]: r for r in crawled["rows"] if (r["error"] or "").startswith("Offsite: not followed")}
    assert offsite in refused and "is not on the source's allow-list" in refused[offsite]["error"], sorted(refused)
    (js,) = [u for u in refused if u.startswith("javascript:")]
    assert LINK_ONLY["javascript_link"] in js and "scheme javascript: is never followed" in refused[js]["error"]
    assert not any(u.startswith("mailto:") for u in refused)
    assert all(r["status"] is None and r["sha256"] is None for r in refused.values())
    source = crawl_summary(crawled)["sources"]["hostile"]
    assert source["offsite_refused"] == len(refused)
    assert source["refused_by_allow_list"] == len(refused) + 1      # and the redirect to localhost


def test_flaky_cases_do_not_cut_the_host_off(crawled):
    """The slow and reset cases fail at the connection level (with their retries) between answers
    of the same host: never HOST_FAILURE_LIMIT times in a row, so its circuit stays closed."""
    summary = crawl_summary(crawled)
    circuit = summary["circuits"][urlsplit(crawled["base"]).netloc]
    print("hostile host:", circuit)
    assert circuit["connection_failures"] >= 2 * (1 + RETRY_TIMES)    # slow.html and reset.html, every attempt
    assert (circuit["opened"], circuit["skipped"]) == (0, 0) and summary["open_circuits"] == []
    assert not any("circuit open" in (r["error"] or "") for r in crawled["rows"])
