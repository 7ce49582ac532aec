"""End-to-end crawls in a subprocess (python -m spiders.run), never leaving 127.0.0.1.

1. A small site written for the test (tests/fixtures/spider/site): a column of two
   pages, three reports (one GBK page, one with a PDF attachment), a 404 link, a
   link answering 500, a link robots.txt forbids, notices and off-site links.
2. The saved pingtan column replayed by shared/tools/replay_proxy.py, proxy and
   crawl together in a network namespace that has nothing but loopback.
"""
from __future__ import annotations

import csv
import json
import re
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.parquet as pq
import pytest

from tests.corpus_truth import META, figure, undisputed_truth
from warehouse.storage.archive import RawArchive

pytestmark = pytest.mark.slow  # crawls a local server

PROJECT = Path(__file__).resolve().parents[1]
SITE = PROJECT / "tests" / "fixtures" / "spider" / "site"
SHARED = PROJECT.parent / "shared"
PINGTAN = SHARED / "sites" / "pingtan-zfxxgknb"
REPLAY_PROXY = SHARED / "tools" / "replay_proxy.py"
COLUMN = "/xxgk/xxgknb/"
ANSWERS_500 = COLUMN + "202001/t20200120_0980.html"
RETRY_TIMES = 3  # spiders.settings.COMMON

LOCAL_SOURCES = """
sources:
  - id: demo-county
    name: 示范县 信息公开年报
    family: trs_static
    entry_urls: ["{BASE}/xxgk/xxgknb/index.html"]
    allowed_domains: [127.0.0.1]
    enabled: true
"""


class SiteServer(ThreadingHTTPServer):
    request_queue_size = 1024  # the default backlog of 5 stalls a concurrent crawl
    daemon_threads = True


def make_handler(requested: list[str]):
    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self):
            requested.append(self.path)
            if self.path == ANSWERS_500:
                self.send_error(500, "server error on purpose")
                return
            super().do_GET()

        def log_message(self, *args):
            pass

    return partial(Handler, directory=str(SITE))


@contextmanager
def serving(handler):
    """Serve `handler` (a request handler class, or a factory of one) on a free port of 127.0.0.1:
    yields the base URL."""
    server = SiteServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def local_site():
    requested: list[str] = []
    with serving(make_handler(requested)) as base:
        yield base, requested


def run_crawl(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spiders.run", *args], cwd=PROJECT,
                          capture_output=True, text=True, timeout=timeout)


def test_crawl_local_site(tmp_path, local_site):
    base, requested = local_site
    sources = tmp_path / "sources.yaml"
    sources.write_text(LOCAL_SOURCES, encoding="utf-8")
    archive_dir = tmp_path / "archive"

    started = time.monotonic()
    done = run_crawl(["--sources", str(sources), "--archive", str(archive_dir), "--run-id", "t1",
                      "--profile", "loopback", "--base-url", base])
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert elapsed < 30, f"loopback crawl took {elapsed:.1f}s"
    assert "3 reports, 1 attachments" in done.stdout

    rows = pq.read_table(archive_dir / "manifest" / "crawl-t1.parquet").to_pylist()
    by_path = {urlsplit(r["url"]).path: r for r in rows}

    def row(path):
        return by_path[COLUMN + path]

    # listing pages: both pages of the column, the second one found by createPageHTML
    assert row("index.html")["kind"] == "listing" and row("index.html")["status"] == 200
    assert row("index_1.html")["kind"] == "listing" and row("index_1.html")["status"] == 200
    # reports, with the anchor that led to them (the title attribute beats truncated text)
    reports = {urlsplit(r["url"]).path: r for r in rows if r["kind"] == "report" and r["status"] == 200}
    assert set(reports) == {COLUMN + p for p in (
        "202401/t20240115_1003.html", "202301/t20230120_1002.html", "202201/t20220118_1001.html")}
    assert row("202401/t20240115_1003.html")["link_title"] == "示范县2023年政府信息公开工作年度报告"
    assert row("202401/t20240115_1003.html")["referer"] == base + COLUMN + "index.html"
    assert row("202301/t20230120_1002.html")["encoding"] in ("gb18030", "gbk", "gb2312")
    # the attachment of the 2021 report
    pdf = row("202201/P020220118123456789.pdf")
    assert (pdf["kind"], pdf["status"]) == ("attachment", 200)
    assert pdf["content_type"] == "application/pdf"
    assert pdf["referer"] == base + COLUMN + "202201/t20220118_1001.html"
    # dead links are recorded with their status; the 500 after its retries
    assert row("202101/t20210120_0990.html")["status"] == 404
    assert row(ANSWERS_500.removeprefix(COLUMN))["status"] == 500
    assert requested.count(ANSWERS_500) == 1 + RETRY_TIMES
    # robots.txt: fetched, recorded, obeyed
    assert by_path["/robots.txt"]["kind"] == "robots"
    assert not any(p.startswith("/private/") for p in requested)
    forbidden = by_path["/private/t20190101_0970.html"]
    assert forbidden["status"] is None and "robots.txt" in forbidden["error"]
    # notices and news in the column are not fetched; nothing off-site is
    assert COLUMN + "202011/t20201101_0985.html" not in requested
    assert COLUMN + "202312/t20231201_0999.html" not in requested
    fetched = [r for r in rows if r["status"] is not None]
    assert all(urlsplit(r["url"]).hostname == "127.0.0.1" for r in fetched)
    # report links off the allow-list are not requested, but recorded with the reason
    refused = {r["url"]: r for r in rows if (r["error"] or "").startswith("Offsite: not followed")}
    assert set(refused) == {"http://www.example.com/2019/report.html", "javascript:void(0)"}, sorted(refused)
    assert "is not on the source's allow-list" in refused["http://www.example.com/2019/report.html"]["error"]
    assert "scheme javascript: is never followed" in refused["javascript:void(0)"]["error"]
    assert all(r["sha256"] is None and r["referer"] == base + COLUMN + "index.html" for r in refused.values())
    # every response body is in the archive under its sha256
    archive = RawArchive(archive_dir)
    for r in rows:
        if r["status"] is not None:
            assert archive.object_path(r["sha256"]).is_file()
            assert len(archive.read(r["sha256"])) == r["size"]
    assert all(r["run_id"] == "t1" and r["source_id"] == "demo-county" for r in rows)

    summary = json.loads((archive_dir / "manifest" / "crawl-t1.summary.json").read_text(encoding="utf-8"))
    county = summary["sources"]["demo-county"]
    assert (county["status"], county["reports"], county["attachments"]) == ("ok", 3, 1)
    assert county["robots_forbidden"] == 1

    # a second run is incremental: archived reports and attachments are not fetched again,
    # failed ones are tried again, listings are revalidated; no object is stored twice
    objects_before = sorted(p for p in (archive_dir / "objects").rglob("*") if p.is_file())
    requested.clear()
    again = run_crawl(["--sources", str(sources), "--archive", str(archive_dir), "--run-id", "t2",
                       "--profile", "loopback", "--base-url", base])
    assert again.returncode == 0, again.stderr
    assert sorted(p for p in (archive_dir / "objects").rglob("*") if p.is_file()) == objects_before
    assert not set(reports) & set(requested)
    assert COLUMN + "202201/P020220118123456789.pdf" not in requested
    assert COLUMN + "202101/t20210120_0990.html" in requested      # the 404 is tried again
    assert COLUMN + "index.html" in requested
    second = json.loads((archive_dir / "manifest" / "crawl-t2.summary.json").read_text(encoding="utf-8"))
    assert second["sources"]["demo-county"]["status"] == "ok"      # a quiet night is not an empty source
    assert second["sources"]["demo-county"]["already_archived"] == 3   # the three report pages
    # --refetch fetches everything again
    requested.clear()
    third = run_crawl(["--sources", str(sources), "--archive", str(archive_dir), "--run-id", "t3",
                       "--profile", "loopback", "--base-url", base, "--refetch"])
    assert third.returncode == 0, third.stderr
    assert set(reports) <= set(requested)


def test_source_without_reports_is_marked(tmp_path, local_site):
    base, _ = local_site
    sources = tmp_path / "sources.yaml"
    sources.write_text(LOCAL_SOURCES.replace("/xxgk/xxgknb/index.html", "/nothing-here/"), encoding="utf-8")
    done = run_crawl(["--sources", str(sources), "--archive", str(tmp_path / "a"), "--run-id", "empty",
                      "--profile", "loopback", "--base-url", base])
    assert done.returncode == 0, done.stderr
    assert "no reports from: demo-county" in done.stdout
    summary = json.loads((tmp_path / "a" / "manifest" / "crawl-empty.summary.json").read_text(encoding="utf-8"))
    assert summary["sources"]["demo-county"]["status"] == "no_reports"


def test_disabled_source_needs_opt_in(tmp_path):
    done = run_crawl(["--sources", str(PROJECT / "sources.yaml"), "--archive", str(tmp_path),
                      "--run-id", "x", "--source", "pingtan-zfxxgknb"], timeout=30)
    assert done.returncode == 2 and "disabled" in done.stderr
    assert not (tmp_path / "manifest").exists()


def _network_namespace_works() -> bool:
    if not shutil.which("unshare") or not shutil.which("ip"):
        return False
    try:
        return subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up"],
                              capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(not PINGTAN.is_dir() or not REPLAY_PROXY.is_file(), reason="shared/sites not available")
@pytest.mark.skipif(not _network_namespace_works(), reason="unshare -n (network namespace) not available")
def test_crawl_pingtan_through_replay_proxy(tmp_path):
    archive_dir = tmp_path / "archive"
    proxy_log = tmp_path / "proxy.log"
    script = f"""
ip link set lo up
"{sys.executable}" "{REPLAY_PROXY}" "{PINGTAN}" --port 8899 > "{proxy_log}" 2> "{tmp_path}/proxy.err" &
proxy=$!
for i in $(seq 300); do grep -q replaying "{tmp_path}/proxy.err" && break; sleep 0.1; done
http_proxy=http://127.0.0.1:8899 https_proxy=http://127.0.0.1:8899 \\
  "{sys.executable}" -m spiders.run --sources "{PROJECT / 'sources.yaml'}" --archive "{archive_dir}" \\
  --run-id pingtan --profile loopback --source pingtan-zfxxgknb --include-disabled
status=$?
kill $proxy
exit $status
"""
    started = time.monotonic()
    done = subprocess.run(["unshare", "-n", "sh", "-c", script], cwd=PROJECT,
                          capture_output=True, text=True, timeout=180)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    assert elapsed < 60, f"replayed crawl took {elapsed:.1f}s (robots.txt through the proxy stalling?)"

    rows = pq.read_table(archive_dir / "manifest" / "crawl-pingtan.parquet").to_pylist()
    fetched = {r["url"]: r for r in rows}
    with open(PINGTAN / "EXPECTED.tsv", encoding="utf-8", newline="") as fh:
        expected = {row["url"] for row in csv.DictReader(fh, delimiter="\t")}
    for url in expected:
        assert url in fetched, f"report not fetched: {url}"
        assert (fetched[url]["status"], fetched[url]["kind"]) == (200, "report")
        assert RawArchive(archive_dir).object_path(fetched[url]["sha256"]).is_file()

    # the proxy logs "<status> <url>" for every request it answered
    # the proxy's threads print without a lock, so lines may interleave: take every URL in the log
    proxy_requests = re.findall(r"https?://[^\s]+", proxy_log.read_text())
    assert proxy_requests, "the crawl did not go through the proxy"
    assert {urlsplit(u).hostname for u in proxy_requests} == {"www.pingtan.gov.cn"}
    assert "https://www.pingtan.gov.cn/robots.txt" in proxy_requests

    summary = json.loads((archive_dir / "manifest" / "crawl-pingtan.summary.json").read_text(encoding="utf-8"))
    pingtan = summary["sources"]["pingtan-zfxxgknb"]
    assert pingtan["reports"] == len(expected)
    assert pingtan["declared_items"] == 20 and pingtan["warnings"], "unreached older items must be reported"
    assert_warehouse_holds_expected_figures(archive_dir, tmp_path)


def assert_warehouse_holds_expected_figures(archive_dir: Path, tmp_path: Path) -> None:
    """Parse and build the replayed crawl: each report the column links to is in the warehouse
    with the figures read by hand from it (TRUTH.tsv of its corpus file, disputes excepted)."""
    import duckdb

    from warehouse.stages.build import build_warehouse
    from warehouse.stages.parse_archive import parse_archive

    parse_archive(archive_dir, tmp_path / "parsed")
    db = tmp_path / "warehouse.duckdb"
    build_warehouse(tmp_path / "parsed", db)
    truth = undisputed_truth()
    with open(PINGTAN / "EXPECTED.tsv", encoding="utf-8", newline="") as fh:
        expected = list(csv.DictReader(fh, delimiter="\t"))
    checked = 0
    with duckdb.connect(str(db), read_only=True) as con:
        for report in expected:
            found = con.execute("""select r.report_id, r.report_year, r.era from dim_report r
                                   join stg_report_sources s using (report_id) where s.url = ?""",
                                [report["url"]]).fetchall()
            assert len(found) == 1, (report["url"], found)
            report_id, year, era = found[0]
            assert year == int(report["report_year"])
            facts = {}
            for table, a, b, value in con.execute(
                    """select 'requests', row, applicant, value from fct_requests where report_id = $1
                       union all select 'reviews', proceeding, result, value from fct_reviews where report_id = $1
                       union all select 'proactive', item_type, measure, value from fct_proactive_disclosure
                       where report_id = $1""", [report_id]).fetchall():
                facts[(table, a, b)] = value
            for metric, want in truth[report["corpus_file"]]:
                if metric == "era":
                    assert era == want, (report["url"], era)
                elif metric not in META:
                    got = figure(facts, metric)
                    assert got == float(want), (report["corpus_file"], metric, got, want)
                    checked += 1
    assert checked >= 40


def test_killed_crawl_leaves_no_manifest(tmp_path, local_site):
    """Bodies may be stored, but the run's manifest is all or nothing."""
    base, requested = local_site
    sources = tmp_path / "sources.yaml"
    sources.write_text(LOCAL_SOURCES, encoding="utf-8")
    archive_dir = tmp_path / "archive"
    crawl = subprocess.Popen([sys.executable, "-m", "spiders.run", "--sources", str(sources),
                              "--archive", str(archive_dir), "--run-id", "killed",
                              "--profile", "loopback", "--base-url", base], cwd=PROJECT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30  # kill it mid-crawl: as soon as it has asked for something
    while "/robots.txt" not in requested and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(crawl.pid, signal.SIGKILL)
    crawl.wait(timeout=10)
    manifest_dir = archive_dir / "manifest"
    assert not manifest_dir.exists() or not any(manifest_dir.iterdir())
