"""Retries wait (exponential backoff, jitter, Retry-After, a cap) without holding up the crawl:
spiders.retry, unit by unit and through a real crawl (python -m spiders.run) on 127.0.0.1."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.parquet as pq
import pytest
from scrapy.http import HtmlResponse

from spiders.retry import backoff_delay, retry_after_seconds
from spiders.settings import PROFILES

pytestmark = pytest.mark.slow  # crawls a local server

PROJECT = Path(__file__).resolve().parents[1]
BASE = PROFILES["loopback"]["RETRY_BACKOFF_BASE"]
CAP = PROFILES["loopback"]["RETRY_BACKOFF_MAX"]
COLUMN = "/xxgk/xxgknb/"
# path: the statuses answered one after the other (then 200), with their Retry-After
FLAKY = COLUMN + "202401/t20240115_0001.html"       # 503, 503, 200
THROTTLED = COLUMN + "202301/t20230120_0002.html"   # 429 "Retry-After: 1", 503 "Retry-After: 3600", 200
STEADY = COLUMN + "202201/t20220118_0003.html"      # 200 at once
SCRIPT = {FLAKY: [(503, None), (503, None)], THROTTLED: [(429, "1"), (503, "3600")]}
REPORTS = {FLAKY: 2023, THROTTLED: 2022, STEADY: 2021}

SOURCES = f"""
sources:
  - id: retry-county
    name: 示范县 信息公开年报
    family: trs_static
    entry_urls: ["{{BASE}}{COLUMN}index.html"]
    allowed_domains: [127.0.0.1]
    enabled: true
"""


def report_title(year: int) -> str:
    return f"示范县{year}年政府信息公开工作年度报告"


def page(title: str, body: str) -> bytes:
    return f'<html><head><meta charset="utf-8"><title>{title}</title></head><body>{body}</body></html>'.encode()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def make_handler(arrivals: list[tuple[float, str]]):
    answered: dict[str, int] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, status: int, body: bytes, retry_after: str | None = None):
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            if retry_after:
                self.send_header("Retry-After", retry_after)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            path = urlsplit(self.path).path
            with lock:
                arrivals.append((time.monotonic(), path))
                n = answered[path] = answered.get(path, 0) + 1
            if path == "/robots.txt":
                self.answer(200, b"User-agent: *\nDisallow:\n")
            elif path == COLUMN + "index.html":
                links = "".join(f'<li><a href="{p}">{report_title(y)}</a></li>' for p, y in REPORTS.items())
                self.answer(200, page("信息公开年报", f"<ul>{links}</ul>"))
            elif path in REPORTS:
                script = SCRIPT.get(path, [])
                if n <= len(script):
                    status, retry_after = script[n - 1]
                    self.answer(status, page("unavailable", f"<h1>{status}</h1>"), retry_after)
                else:
                    self.answer(200, page(report_title(REPORTS[path]), f"<h1>{report_title(REPORTS[path])}</h1>"))
            else:
                self.answer(404, page("404", "<h1>404</h1>"))

    return Handler


@pytest.fixture
def site():
    arrivals: list[tuple[float, str]] = []
    server = Server(("127.0.0.1", 0), make_handler(arrivals))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", arrivals
    server.shutdown()
    server.server_close()


# --------------------------------------------------------------------- units

def test_backoff_grows_with_jitter_and_stays_under_the_cap():
    assert [backoff_delay(n, 2.0, 60.0, jitter=lambda: 0.0) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert backoff_delay(1, 2.0, 60.0, jitter=lambda: 0.999) < 3.0      # jitter: up to +50 %
    assert backoff_delay(2, 2.0, 60.0, jitter=lambda: 0.0) > backoff_delay(1, 2.0, 60.0, jitter=lambda: 0.999)
    assert backoff_delay(10, 2.0, 60.0) == 60.0
    assert backoff_delay(1, 0.0, 60.0) == 0.0                           # no base: Scrapy's immediate retry


def test_retry_after_is_honoured_within_the_cap():
    assert backoff_delay(1, 2.0, 60.0, retry_after=30.0, jitter=lambda: 0.0) == 30.0
    assert backoff_delay(1, 2.0, 60.0, retry_after=3600.0) == 60.0
    assert backoff_delay(3, 2.0, 60.0, retry_after=1.0, jitter=lambda: 0.0) == 8.0   # never shorter than the backoff


@pytest.mark.parametrize("status, header, seconds", [
    (429, b"120", 120.0), (503, b" 5 ", 5.0), (503, b"Wed, 21 Oct 2015 07:28:00 GMT", None),
    (503, b"-1", None), (500, b"120", None), (429, None, None),
])
def test_retry_after_header(status, header, seconds):
    headers = {"Retry-After": header} if header is not None else {}
    assert retry_after_seconds(HtmlResponse("http://127.0.0.1/", status=status, headers=headers)) == seconds


# --------------------------------------------------------------------- a crawl

def test_retries_back_off_without_holding_up_the_crawl(tmp_path, site):
    base_url, arrivals = site
    (tmp_path / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "spiders.run", "--sources", str(tmp_path / "sources.yaml"),
                           "--archive", str(tmp_path / "raw"), "--run-id", "retry", "--profile", "loopback",
                           "--base-url", base_url, "--progress", "off"],
                          cwd=PROJECT, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    assert "3 reports" in done.stdout

    rows = {urlsplit(r["url"]).path: r for r in pq.read_table(tmp_path / "raw" / "manifest" / "crawl-retry.parquet").to_pylist()}
    for path in REPORTS:
        assert (rows[path]["kind"], rows[path]["status"]) == ("report", 200), rows[path]

    times = {path: [t for t, p in arrivals if p == path] for path in REPORTS}
    flaky, throttled, steady = times[FLAKY], times[THROTTLED], times[STEADY]
    assert (len(flaky), len(throttled), len(steady)) == (3, 3, 1)
    flaky_gaps = [b - a for a, b in zip(flaky, flaky[1:])]
    throttled_gaps = [b - a for a, b in zip(throttled, throttled[1:])]
    print(f"crawl {elapsed:.1f}s; 503 503 200 gaps {[round(g, 3) for g in flaky_gaps]}; "
          f"429 (Retry-After 1) 503 (Retry-After 3600) 200 gaps {[round(g, 3) for g in throttled_gaps]}")

    # backoff: base × 2^(n-1) × jitter in [1, 1.5): each wait at least the base, the second longer
    assert flaky_gaps[0] >= BASE and flaky_gaps[1] >= 2 * BASE
    assert flaky_gaps[1] >= flaky_gaps[0]
    # Retry-After: 1 s asked for is waited (the backoff alone is under 0.3 s); 3600 s is capped
    assert throttled_gaps[0] >= 1.0
    assert CAP <= throttled_gaps[1] < CAP + 1.0

    # nothing else waits for a retry: the flaky page's first retry goes out while the throttled
    # one sits out its Retry-After, and the steady page is in before either is done
    assert throttled[0] < flaky[1] < throttled[1] - 0.3
    assert steady[0] < min(flaky[-1], throttled[-1])
    assert elapsed < 20
