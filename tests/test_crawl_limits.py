"""What a crawl may request, and how much a dead host may cost it (issue 13, point 3).

- The allow-list is by origin — scheme, host AND port (spiders.origins): a link or a redirect
  to another port of an allowed host, and any scheme but http/https, is neither requested nor
  archived, and leaves a manifest row with the reason. The rule against a reference model
  (hypothesis), then real crawls with a second server listening on the other port.
- A host failing at the connection level HOST_FAILURE_LIMIT times in a row is cut off for the
  rest of the run (spiders.circuit): 2 000 links to a dead port end in seconds, each recorded.
  Failures that are not consecutive cut nothing off.

Every server is on 127.0.0.1; every crawl is `python -m spiders.run --profile loopback`.
"""
from __future__ import annotations

import base64
import ipaddress
import json
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.exceptions import (
    CannotResolveHostError, DownloadConnectionRefusedError, DownloadFailedError, DownloadTimeoutError,
    IgnoreRequest, ResponseDataLossError,
)

from spiders.circuit import HostCircuits, is_connection_failure
from spiders.discovery import classify_links
from spiders.origins import allow_list, parse_allowed_entry
from spiders.settings import PROFILES
from spiders.sources import load_sources

pytestmark = pytest.mark.slow  # crawls local servers

PROJECT = Path(__file__).resolve().parents[1]
RETRY_TIMES = PROFILES["loopback"]["RETRY_TIMES"]
LIMIT = PROFILES["loopback"]["HOST_FAILURE_LIMIT"]
DEFAULT = {"http": 80, "https": 443}


# --------------------------------------------------------------------- the rule, against a model

HOSTS = ["ordos.gov.cn", "www.ordos.gov.cn", "a.b.ordos.gov.cn", "evilordos.gov.cn", "ordos.gov.cn.evil.com",
         "gov.cn", "127.0.0.1", "127.0.0.2", "localhost", "x.localhost", "::1", "WWW.Ordos.GOV.cn"]
PORTS = st.one_of(st.none(), st.sampled_from([80, 443, 8000, 8080]), st.integers(1, 65535))


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def netloc(host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown + (f":{port}" if port is not None else "")


@dataclass(frozen=True)
class Entry:
    kind: str          # "domain" (allowed_domains, bare or with a port) or "origin" (an entry URL)
    host: str
    port: int | None
    scheme: str | None = None


entries = st.one_of(
    st.builds(Entry, st.just("domain"), st.sampled_from(HOSTS), PORTS),
    st.builds(Entry, st.just("origin"), st.sampled_from(HOSTS), PORTS, st.sampled_from(["http", "https"])),
)


def reference_allows(scheme: str, host: str, port: int | None, allowed: list[Entry]) -> bool:
    """The rule as the issue states it, written the plain way."""
    scheme, host = scheme.lower(), host.lower()
    if scheme not in DEFAULT:
        return False
    port = DEFAULT[scheme] if port is None else port
    for e in allowed:
        e_host = e.host.lower()
        if e.kind == "origin":
            if scheme == e.scheme and host == e_host and port == (DEFAULT[e.scheme] if e.port is None else e.port):
                return True
        elif (host == e_host or (not is_ip(e_host) and host.endswith("." + e_host))) and \
                port == (DEFAULT[scheme] if e.port is None else e.port):
            return True
    return False


@settings(max_examples=600, deadline=None)
@given(scheme=st.sampled_from(["http", "https", "HTTP", "Https", "ftp", "file", "javascript", "data", "gopher"]),
       host=st.sampled_from(HOSTS), port=PORTS,
       path=st.text(alphabet="abc/._-%?#@:\\;=&中", max_size=24),
       allowed=st.lists(entries, min_size=1, max_size=4))
def test_allow_rule_agrees_with_the_reference_model(scheme, host, port, path, allowed):
    entry_urls = tuple(f"{e.scheme}://{netloc(e.host, e.port)}/gk/index.html" for e in allowed if e.kind == "origin")
    domains = tuple(netloc(e.host, e.port) for e in allowed if e.kind == "domain")
    url = f"{scheme}://{netloc(host, port)}/{path}"
    allow = allow_list(entry_urls, domains)
    assert allow.allows(url) == reference_allows(scheme, host, port, allowed), (url, str(allow))
    assert (allow.refusal(url) is None) == allow.allows(url)


def test_allow_rule_examples():
    allow = allow_list(("http://127.0.0.1:8123/gk/",), ("127.0.0.1", "ordos.gov.cn", "data.ordos.gov.cn:8443"))
    allowed = ["http://127.0.0.1:8123/a", "http://127.0.0.1/a", "https://127.0.0.1/a", "http://ordos.gov.cn:80/",
               "https://www.ordos.gov.cn/x", "http://WWW.ORDOS.GOV.CN./x", "https://data.ordos.gov.cn:8443/x",
               "http://x.data.ordos.gov.cn:8443/x"]
    refused = ["http://127.0.0.1:8124/a", "https://127.0.0.1:8123/a", "http://www.ordos.gov.cn:8080/",
               "http://www.ordos.gov.cn:443/", "https://www.ordos.gov.cn:80/", "http://data.ordos.gov.cn:8444/",
               "http://evilordos.gov.cn/", "http://ordos.gov.cn.evil.com/", "http://localhost:8123/",
               "http://127.0.0.1:8123\\@evil.example/", "http://127.0.0.1:8123@evil.example/",
               "ftp://127.0.0.1:8123/r.pdf", "file:///etc/passwd", "javascript:open('/r.html')",
               "data:text/html,<h1>2023年政府信息公开工作年度报告</h1>", "http://127.0.0.1:99999/", "//127.0.0.1:8123/"]
    assert [u for u in allowed if not allow.allows(u)] == []
    assert [u for u in refused if allow.allows(u)] == []
    assert "127.0.0.1:8124 is not on the source's allow-list" in allow.refusal("http://127.0.0.1:8124/a")
    assert "scheme file: is never followed" in allow.refusal("file:///etc/passwd")


@pytest.mark.parametrize("entry", ["ordos.gov.cn/xxgk", "ordos.gov.cn:http", "*.ordos.gov.cn", "user@ordos.gov.cn",
                                   "ftp://ordos.gov.cn", "http://ordos.gov.cn/xxgk/", "ordos gov cn", ""])
def test_invalid_allowed_domains_entries_are_rejected(tmp_path, entry):
    with pytest.raises(ValueError, match="allowed_domains entry"):
        parse_allowed_entry(entry)
    path = tmp_path / "sources.yaml"
    path.write_text(f"""
sources:
  - id: bad
    name: bad
    family: trs_static
    entry_urls: ["https://www.ordos.gov.cn/xxgk/"]
    allowed_domains: [ok.gov.cn, "{entry}"]
""", encoding="utf-8")
    with pytest.raises(ValueError, match="source bad: allowed_domains entry"):
        load_sources(path, include_disabled=True)


def test_a_local_source_allows_exactly_its_base_origin(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("""
sources:
  - id: demo
    name: demo
    family: trs_static
    entry_urls: ["{BASE}/gk/index.html"]
    allowed_domains: [127.0.0.1, localhost]
""", encoding="utf-8")
    (source,) = load_sources(path, base_url="http://127.0.0.1:8123")
    assert source.allow.allows("http://127.0.0.1:8123/gk/2023.html")
    assert not source.allow.allows("http://127.0.0.1:8124/gk/2023.html")     # another port of the same host
    assert not source.allow.allows("https://127.0.0.1:8123/gk/2023.html")    # another scheme
    assert not source.allow.allows("http://localhost:8123/gk/2023.html")     # a bare domain: default ports only
    assert source.allow.allows("http://localhost/gk/2023.html")
    assert set(source.allow.hosts) == {"127.0.0.1", "localhost"}             # what Scrapy's OffsiteMiddleware gets


def test_classify_links_records_what_it_refuses():
    page = "http://127.0.0.1:8123/gk/index.html"
    html = """<html><head><base href="http://127.0.0.1:9999/gk/"></head><body>
      <a href="http://127.0.0.1:8123/gk/r1.html">示范县2023年政府信息公开工作年度报告</a>
      <a href="r2.html">示范县2022年政府信息公开工作年度报告</a>
      <a href="ftp://127.0.0.1:8123/gk/r3.pdf">示范县2021年政府信息公开工作年度报告</a>
      <a href="mailto:gk@example.org">示范县2020年政府信息公开工作年度报告（意见）</a>
      <a href="#top">示范县2019年政府信息公开工作年度报告</a>
      <a href="http://127.0.0.1:9999/news.html">新闻</a>
      <script>createPageHTML(2, 0, "index", "html");</script></body></html>"""
    links = classify_links(html, page, allow_list((page,), ()))
    assert [link.url for link in links.reports] == ["http://127.0.0.1:8123/gk/r1.html"]
    assert links.pagination == []
    refused = {r.url: r for r in links.refused}
    assert set(refused) == {"http://127.0.0.1:9999/gk/r2.html", "ftp://127.0.0.1:8123/gk/r3.pdf",  # <base href>
                            "http://127.0.0.1:9999/gk/index.html", "http://127.0.0.1:9999/gk/index_1.html"}
    # (mailto:, #top and the news link are dropped: nothing the crawl would have followed)
    assert refused["ftp://127.0.0.1:8123/gk/r3.pdf"].kind == "attachment"
    assert refused["http://127.0.0.1:9999/gk/index_1.html"].kind == "listing"
    assert "scheme ftp: is never followed" in refused["ftp://127.0.0.1:8123/gk/r3.pdf"].reason


# --------------------------------------------------------------------- the breaker's bookkeeping

def test_circuit_opens_on_consecutive_failures_only():
    circuits = HostCircuits(limit=3)
    host = "127.0.0.1:8123"
    for n, outcome in enumerate("FFSFFSFFS"):  # six failures, never three in a row
        circuits.success(host) if outcome == "S" else circuits.failure(host, "DownloadFailedError: closed", f"/{n}")
        assert circuits.refusal(host) is None
    assert circuits.report()[host]["connection_failures"] == 6 and circuits.report()[host]["opened"] == 0
    # the retries of one URL count once: a few bad pages do not cut a live host off
    assert not any(circuits.failure(host, "DownloadTimeoutError: slow", "/slow") for _ in range(4))
    assert not circuits.failure(host, "DownloadTimeoutError: slow", "/slow-too")
    assert circuits.failure(host, "DownloadConnectionRefusedError: refused", "/a")     # a third URL
    assert circuits.refusal(host).startswith(f"circuit open: host {host} failed 3 times in a row")
    assert circuits.refusal(host).endswith("not requested")
    assert circuits.refusal(host, tried=1).endswith("not retried after 1 attempts")
    assert circuits.refusal("127.0.0.1:8124") is None      # per host and port
    circuits.success(host)                                  # an answer after all: closed again
    assert circuits.refusal(host) is None and circuits.report()[host]["opened"] == 1


@pytest.mark.parametrize("exc, counts", [
    (DownloadConnectionRefusedError("refused"), True), (CannotResolveHostError("no such host"), True),
    (DownloadTimeoutError("took longer than 5 seconds"), True), (DownloadFailedError("connection lost"), True),
    (ConnectionResetError(), True), (ResponseDataLossError(), False), (IgnoreRequest("robots.txt"), False),
    (ValueError("bad"), False),
])
def test_what_counts_as_a_connection_failure(exc, counts):
    assert is_connection_failure(exc) is counts


# --------------------------------------------------------------------- servers and crawls

Route = Callable[[BaseHTTPRequestHandler], None]


class Site(ThreadingHTTPServer):
    """A server on 127.0.0.1 that logs every connection and request; `drop(n)` closes the n-th
    connection (1-based) without reading or answering it."""
    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, routes: dict[str, Route] | None = None, drop: Callable[[int], bool] = lambda n: False):
        self.routes = routes or {}
        self.drop = drop
        self.connections = 0
        self.dropped = 0
        self.requests: list[str] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def verify_request(self, request, client_address) -> bool:
        with self.lock:
            self.connections += 1
            dropped = self.drop(self.connections)
            self.dropped += dropped
        return not dropped

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        with self.server.lock:
            self.server.requests.append(self.path)
        route = self.server.routes.get(urlsplit(self.path).path)
        if route is None and urlsplit(self.path).path == "/robots.txt":
            return answer(self, 200, b"User-agent: *\nDisallow:\n", "text/plain")
        if route is None:
            return answer(self, 404, b"<h1>404</h1>")
        route(self)


def answer(handler, status: int, body: bytes, content_type: str = "text/html; charset=utf-8", headers=()):
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def html_page(title: str, body: str) -> bytes:
    return f'<html><head><meta charset="utf-8"><title>{title}</title></head><body>{body}</body></html>'.encode()


def report_title(year: int, tag: str = "") -> str:
    return f"示范县{year}年政府信息公开工作年度报告{tag}"


def serve(body: bytes) -> Route:
    return lambda h: answer(h, 200, body)


def redirect(location: str) -> Route:
    return lambda h: answer(h, 302, b"", headers=[("Location", location)])


@dataclass
class Crawl:
    done: subprocess.CompletedProcess
    elapsed: float          # the whole subprocess, interpreter start and imports included
    rows: list[dict]
    summary: dict
    archive: Path = field(repr=False)

    @property
    def crawl_seconds(self) -> float:
        """The crawl itself: from the archive pipeline's start to the summary."""
        return (datetime.fromisoformat(self.summary["finished_at"])
                - datetime.fromisoformat(self.summary["started_at"])).total_seconds()

    def row(self, url: str) -> dict:
        matches = [r for r in self.rows if r["url"] == url]
        assert matches, f"no manifest row for {url}"
        return matches[0]


def crawl(tmp_path: Path, base: str, entry_path: str, allowed: list[str], *extra: str, timeout: float = 120) -> Crawl:
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"""
sources:
  - id: limits
    name: 示范县 信息公开年报
    family: trs_static
    entry_urls: ["{{BASE}}{entry_path}"]
    allowed_domains: {json.dumps(allowed)}
    enabled: true
""", encoding="utf-8")
    archive = tmp_path / "raw"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "spiders.run", "--sources", str(sources), "--archive", str(archive),
                           "--run-id", "limits", "--profile", "loopback", "--base-url", base, "--progress", "off",
                           *extra], cwd=PROJECT, capture_output=True, text=True, timeout=timeout)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-4000:]
    rows = pq.read_table(archive / "manifest" / "crawl-limits.parquet").to_pylist()
    summary = json.loads((archive / "manifest" / "crawl-limits.summary.json").read_text(encoding="utf-8"))
    return Crawl(done, elapsed, rows, summary, archive)


# --------------------------------------------------------------------- (a), (b): other ports, other schemes

DATA_REPORT = "data:application/pdf;base64," + base64.b64encode(b"%PDF-1.4 " + b"x" * 6000).decode()


@pytest.fixture(scope="module")
def other_port_crawl(tmp_path_factory):
    """A site on an allowed port whose pages link and redirect to a second server on another port of
    the same host, and to file:, ftp:, javascript: and data: URLs, all titled as reports."""
    with Site() as other, Site() as site:
        b = other.port
        other.routes = {p: serve(html_page(report_title(2020), "<h1>must never be fetched</h1>"))
                        for p in ("/gk/r2.html", "/gk/r3.html", "/gk/landing.html", "/gk/old/", "/gk2/r9.html",
                                  "/gk2/index_1.html")}
        links = [
            ("/gk/r1.html", report_title(2023)),                                       # followed
            (f"http://127.0.0.1:{b}/gk/r2.html", report_title(2022)),                   # another port
            (f"//127.0.0.1:{b}/gk/r3.html", report_title(2021)),                        # scheme-relative
            (f"https://127.0.0.1:{site.port}/gk/r4.html", report_title(2019, "（https）")),  # another scheme
            (f"http://localhost:{site.port}/gk/r5.html", report_title(2018, "（localhost）")),  # another host
            ("/gk/moved.html", report_title(2017, "（迁移）")),                          # 302 to the other port
            ("/gk/moved-to-file.html", report_title(2016, "（本地文件）")),               # 302 to file:
            ("file:///etc/passwd", report_title(2015, "（file）")),
            (f"ftp://127.0.0.1:{b}/gk/r6.pdf", report_title(2014, "（ftp）")),
            (f"javascript:window.open('http://127.0.0.1:{b}/gk/r7.html')", report_title(2013, "（js）")),
            ("data:text/html,<h1>2012</h1>", report_title(2012, "（data）")),
            (DATA_REPORT, report_title(2011, "（data pdf）")),
            (f"http://127.0.0.1:{b}/gk/old/", "历年年报"),                               # a column on the other port
            ("/gk2/index.html", "政府信息公开年报"),                                      # a column whose <base> points away
        ]
        listing = "<ul>" + "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in links) + "</ul>"
        column = (f'<base href="http://127.0.0.1:{b}/gk2/"><ul><li><a href="r9.html">{report_title(2010)}</a></li></ul>'
                  '<script>createPageHTML(2, 0, "index", "html");</script>')
        site.routes = {
            "/gk/index.html": serve(html_page("信息公开年报", listing)),
            "/gk/r1.html": serve(html_page(report_title(2023), f"<h1>{report_title(2023)}</h1>")),
            "/gk/moved.html": redirect(f"http://127.0.0.1:{b}/gk/landing.html"),
            "/gk/moved-to-file.html": redirect("file:///etc/passwd"),
            "/gk2/index.html": serve(html_page("政府信息公开年报", column)),
        }
        result = crawl(tmp_path_factory.mktemp("ports"), site.base, "/gk/index.html", ["127.0.0.1"])
        yield result, site, other


def test_other_port_is_neither_requested_nor_archived(other_port_crawl):
    result, site, other = other_port_crawl
    assert other.connections == 0 and other.requests == []      # not even its robots.txt
    b = other.port
    assert result.row(site.base + "/gk/r1.html")["status"] == 200
    for row in result.rows:
        for url in (row["url"], row["final_url"]):
            if url and urlsplit(url).port == b:
                assert row["status"] is None and row["sha256"] is None, row
    # the links: one row each, with the reason
    for url in (f"http://127.0.0.1:{b}/gk/r2.html", f"http://127.0.0.1:{b}/gk/r3.html",
                f"http://127.0.0.1:{b}/gk/old/", f"http://127.0.0.1:{b}/gk2/r9.html",
                f"http://127.0.0.1:{b}/gk2/index_1.html"):
        row = result.row(url)
        assert row["error"].startswith("Offsite: not followed") and f"127.0.0.1:{b} is not on" in row["error"], row
        assert row["referer"] and urlsplit(row["referer"]).port == site.port
    assert result.row(f"http://127.0.0.1:{b}/gk/old/")["kind"] == "listing"
    assert "https://127.0.0.1:" in result.row(f"https://127.0.0.1:{site.port}/gk/r4.html")["error"]
    assert "http://localhost:" in result.row(f"http://localhost:{site.port}/gk/r5.html")["error"]
    # the redirect: refused at scheduling, recorded under the URL that was asked for
    moved = result.row(site.base + "/gk/moved.html")
    assert moved["status"] is None and moved["sha256"] is None
    assert moved["error"].startswith("IgnoreRequest: redirected off the allow-list")
    assert f"127.0.0.1:{b}/gk/landing.html" in moved["error"] and f"127.0.0.1:{b} is not on" in moved["error"]


def test_other_schemes_are_never_followed(other_port_crawl):
    result, site, other = other_port_crawl
    b = other.port
    for url, scheme in (("file:///etc/passwd", "file"), (f"ftp://127.0.0.1:{b}/gk/r6.pdf", "ftp"),
                        (f"javascript:window.open('http://127.0.0.1:{b}/gk/r7.html')", "javascript"),
                        ("data:text/html,<h1>2012</h1>", "data")):
        row = result.row(url)
        assert (row["status"], row["sha256"]) == (None, None)
        assert f"scheme {scheme}: is never followed" in row["error"], row
    assert result.row(f"ftp://127.0.0.1:{b}/gk/r6.pdf")["kind"] == "attachment"
    # a long data: URL is recorded, not kept whole in the manifest
    (data_pdf,) = [r for r in result.rows if r["url"].startswith("data:application/pdf")]
    assert len(data_pdf["url"]) < 2100 and data_pdf["url"].endswith(f"[{len(DATA_REPORT)} characters]")
    # a redirect to file: is not followed by Scrapy; the row says where it pointed and why not
    to_file = result.row(site.base + "/gk/moved-to-file.html")
    assert to_file["status"] == 302 and "file:///etc/passwd" in to_file["error"]
    assert "scheme file: is never followed" in to_file["error"]
    # nothing archived but the site's own pages
    archived = [r for r in result.rows if r["sha256"]]
    assert archived and all(urlsplit(r["final_url"] or r["url"]).port == site.port for r in archived)


def test_refusals_are_in_the_summary(other_port_crawl):
    result, _, _ = other_port_crawl
    source = result.summary["sources"]["limits"]
    offsite = [r for r in result.rows if (r["error"] or "").startswith("Offsite: not followed")]
    assert source["offsite_refused"] == len(offsite) >= 12
    assert source["refused_by_allow_list"] == len(offsite) + 1     # and the redirect
    assert any("allow-list" in w for w in source["warnings"])
    assert source["reports"] == 1 and source["errors"] == 2        # the two redirects not followed
    assert result.summary["open_circuits"] == []


# --------------------------------------------------------------------- (c) a dead host

N_LINKS = 2000


def dead_host_listing(port: int) -> bytes:
    items = "".join(f'<li><a href="http://127.0.0.1:{port}/gk/{i}.html">{report_title(2000 + i % 24, f"（{i}）")}</a></li>'
                    for i in range(N_LINKS))
    return html_page("信息公开年报", f"<ul>{items}</ul>")


def assert_cut_off(result: Crawl, host: str, limit: int) -> dict:
    rows = [r for r in result.rows if urlsplit(r["url"]).netloc == host]
    assert len(rows) == N_LINKS
    skipped = [r for r in rows if r["error"].startswith("IgnoreRequest: circuit open:")]
    failed = [r for r in rows if r not in skipped]
    reason = f"circuit open: host {host} failed {limit} times in a row"
    assert all(reason in r["error"] for r in rows), {r["error"] for r in rows}
    assert all(r["status"] is None and r["sha256"] is None for r in rows)
    assert len(failed) <= limit and all("not retried" in r["error"] for r in failed)
    circuit = result.summary["circuits"][host]
    assert result.summary["open_circuits"] == [host] and circuit["circuit"] == "open"
    assert circuit["skipped"] == len(skipped) >= N_LINKS - limit
    source = result.summary["sources"]["limits"]
    assert source["circuit_skipped"] == len(skipped) and source["hosts_cut_off"] == [host]
    assert any(reason.split(" failed")[0] in w for w in source["warnings"])
    assert f"hosts cut off (circuit open): {host}" in result.done.stdout
    return circuit


def test_dead_port_is_cut_off_quickly(tmp_path):
    with socket.socket() as dead:                 # bound, never listening: connections are refused
        dead.bind(("127.0.0.1", 0))
        dead_port = dead.getsockname()[1]
        with Site() as site:
            site.routes = {"/gk/index.html": serve(dead_host_listing(dead_port))}
            result = crawl(tmp_path, site.base, "/gk/index.html", ["127.0.0.1", f"127.0.0.1:{dead_port}"])
    print(f"{N_LINKS} links to a dead port: crawl {result.crawl_seconds:.1f} s, process {result.elapsed:.1f} s")
    assert result.crawl_seconds < 20 and result.elapsed < 60     # was 208 s before the breaker
    circuit = assert_cut_off(result, f"127.0.0.1:{dead_port}", LIMIT)
    assert circuit["attempts"] <= LIMIT + RETRY_TIMES          # robots.txt and its retries included
    assert "DownloadConnectionRefusedError" in circuit["last_error"]


def test_host_that_resets_every_connection_is_cut_off_after_the_limit(tmp_path):
    """The same with a host that accepts and drops every connection (counted on its side), and
    HOST_FAILURE_LIMIT set on the command line."""
    limit = 3
    with Site(drop=lambda n: True) as resetting, Site() as site:
        site.routes = {"/gk/index.html": serve(dead_host_listing(resetting.port))}
        result = crawl(tmp_path, site.base, "/gk/index.html", ["127.0.0.1", f"127.0.0.1:{resetting.port}"],
                       "--set", f"HOST_FAILURE_LIMIT={limit}")
        connections = resetting.connections
    print(f"{N_LINKS} links to a resetting host: crawl {result.crawl_seconds:.1f} s, process {result.elapsed:.1f} s, "
          f"{connections} connections")
    assert result.crawl_seconds < 20 and result.elapsed < 60
    circuit = assert_cut_off(result, f"127.0.0.1:{resetting.port}", limit)
    assert connections <= limit + RETRY_TIMES and circuit["attempts"] == connections


# --------------------------------------------------------------------- (d) failures that are not consecutive

def test_host_that_fails_and_recovers_is_not_cut_off(tmp_path):
    """HOST_FAILURE_LIMIT 3; the host drops connections 1-2 (robots.txt), 8-9 and 12-13: six failures,
    never three in a row (one request at a time, so the order of outcomes is the order of connections)."""
    limit, drops = 3, {1, 2, 8, 9, 12, 13}
    with Site(drop=lambda n: n in drops) as site:
        reports = {f"/gk/{year}.html": year for year in range(2016, 2024)}
        listing = "".join(f'<li><a href="{path}">{report_title(year)}</a></li>' for path, year in reports.items())
        site.routes = {"/gk/index.html": serve(html_page("信息公开年报", f"<ul>{listing}</ul>")),
                       **{path: serve(html_page(report_title(y), f"<h1>{report_title(y)}</h1>"))
                          for path, y in reports.items()}}
        result = crawl(tmp_path, site.base, "/gk/index.html", ["127.0.0.1"], "--set", f"HOST_FAILURE_LIMIT={limit}",
                       "--set", "CONCURRENT_REQUESTS=1", "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
        dropped = site.dropped
    assert dropped == len(drops)
    host = f"127.0.0.1:{site.port}"
    circuit = result.summary["circuits"][host]
    assert circuit["connection_failures"] == len(drops) > limit
    assert (circuit["circuit"], circuit["opened"], circuit["skipped"]) == ("closed", 0, 0)
    assert result.summary["open_circuits"] == []
    for path in reports:
        assert result.row(site.base + path)["status"] == 200
    assert not any("circuit open" in (r["error"] or "") for r in result.rows)
    assert result.summary["sources"]["limits"]["reports"] == len(reports)
