"""Polite revisits: an archived report whose latest fetch is --revisit-days old is requested again, and a
body edited in place since is archived as a new fetch of the same URL (the old body stays).

The end-to-end test serves a small site written here with the demo server, whose round 2 serves
`site_round2/` over the site (a report edited without notice), and crawls it three times.
"""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from demo_portal.server import serve_portal
from spiders.revisit import Revisit, pages_to_fetch_again, plan_revisits
from warehouse.storage.archive import RawArchive

PROJECT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 3, 1, 2, 30, tzinfo=timezone.utc)
SOURCES = """
sources:
  - id: county
    name: 青禾县 政府信息公开年报
    family: trs_static
    entry_urls: ["{BASE}/gk/ndbg/index.html"]
    allowed_domains: [127.0.0.1]
    enabled: true
"""


def row(url: str, days_ago: float, status: int = 200, sha: str | None = "a" * 64, kind: str = "report", **extra) -> dict:
    return {"url": url, "status": status, "kind": kind, "sha256": sha if status == 200 else extra.pop("sha", None),
            "size": 10, "fetched_at": NOW - timedelta(days=days_ago), "source_id": "county", "link_title": "t",
            "referer": "r", **extra}


# ---------------------------------------------------------------- planning (no crawl)

def test_due_after_the_revisit_days_and_every_run_at_zero():
    rows = [row("u/old.html", 40), row("u/new.html", 3), row("u/a.pdf", 38, kind="attachment"),
            row("u/list.html", 90, kind="listing"), row("u/gone.html", 60, status=404, sha=None)]
    due = plan_revisits(rows, 30, NOW)
    assert sorted(due) == ["u/a.pdf", "u/old.html"]          # listings are revalidated otherwise; 404 never archived
    assert due["u/a.pdf"].kind == "attachment" and due["u/old.html"].sha256 == "a" * 64
    assert sorted(plan_revisits(rows, 0, NOW)) == ["u/a.pdf", "u/new.html", "u/old.html"]


def test_revisits_of_one_night_s_crawl_are_spread_over_a_quarter_of_the_revisit_days():
    """1 000 reports archived on one night fall due over days 30 to 37.5, not all on day 30."""
    rows = [row(f"u/{i}.html", 0) for i in range(1000)]
    due_by_day = [len(plan_revisits(rows, 30, NOW + timedelta(days=day))) for day in (29.9, 30.1, 33.75, 37.6)]
    assert due_by_day[0] == 0 and due_by_day[1] < 30 and 400 < due_by_day[2] < 600 and due_by_day[3] == 1000
    assert plan_revisits(rows, 30, NOW + timedelta(days=33.75)) == plan_revisits(rows, 30, NOW + timedelta(days=33.75))


def test_the_latest_answer_counts_and_the_latest_body_is_kept():
    rows = [row("u/r.html", 50, sha="1" * 64), row("u/r.html", 35, sha="2" * 64),
            row("u/r.html", 10, status=304, sha="2" * 64),                  # revalidated 10 days ago
            row("u/w.html", 70), row("u/w.html", 5, status=404)]            # withdrawn: not asked every night
    assert plan_revisits(rows, 30, NOW) == {}
    due = plan_revisits(rows, 7, NOW)
    assert sorted(due) == ["u/r.html"]
    assert due["u/r.html"].sha256 == "2" * 64 and due["u/r.html"].last_fetched == NOW - timedelta(days=10)


def test_validators_become_conditional_headers():
    rows = [row("u/r.html", 40, etag='"abc"', last_modified="Tue, 03 Feb 2026 01:00:00 GMT")]
    revisit = plan_revisits(rows, 30, NOW)["u/r.html"]
    assert revisit.headers() == {"If-None-Match": '"abc"', "If-Modified-Since": "Tue, 03 Feb 2026 01:00:00 GMT"}
    assert plan_revisits([row("u/r.html", 40)], 30, NOW)["u/r.html"].headers() == {}  # no validators kept


def test_a_page_whose_attachment_failed_for_now_is_fetched_again():
    """A crawl that lost its server midway archived pages whose attachments it could not fetch: those
    pages are asked again (their links are read only from a fetched page), until every link answered."""
    from spiders.circuit import may_answer_later

    refused = "DownloadConnectionRefusedError: Connection was refused by other side: 111"
    rows = [row("u/a.html", 2), row("u/a.xlsx", 2, status=None, kind="attachment", referer="u/a.html", error=refused),
            row("u/b.html", 2), row("u/b.pdf", 2, status=None, kind="attachment", referer="u/b.html", error=refused),
            row("u/b.pdf", 1, kind="attachment", referer="u/b.html"),              # fetched by a later run
            row("u/c.html", 2), row("u/c.png", 2, status=503, kind="attachment", referer="u/c.html"),
            row("u/d.html", 2), row("u/d.doc", 2, status=404, kind="attachment", referer="u/d.html"),   # an answer
            row("u/e.html", 2), row("u/e.pdf", 2, status=None, kind="attachment", referer="u/e.html",
                                    error="IgnoreRequest: circuit open: host 127.0.0.1:8 failed 5 times in a row"),
            row("u/f.html", 2), row("u/f.pdf", 2, status=None, kind="attachment", referer="u/f.html",
                                    error="IgnoreRequest: Forbidden by robots.txt"),
            row("u/g.html", 2, status=None, referer="u/list.html", error=refused)]      # a report never archived
    assert pages_to_fetch_again(rows, may_answer_later) == {"u/a.html", "u/c.html", "u/e.html"}


def test_a_304_is_a_fetch_of_the_body_archived_before(tmp_path):
    """The manifest keeps the validators a revisit asks with; a 304 is the report's latest fetch."""
    from warehouse.stages.parse_archive import report_fetches

    archive = RawArchive(tmp_path / "raw")
    body = "<html><body>青禾县2024年政府信息公开工作年度报告</body></html>".encode()
    first = dict(url="u/r.html", final_url="u/r.html", status=200, content_type="text/html", sha256=archive.put(body),
                 size=len(body), fetched_at=NOW - timedelta(days=40), kind="report", run_id="r1", etag='"v1"')
    archive.write_manifest([first], "r1")
    archive.write_manifest([{**first, "status": 304, "fetched_at": NOW, "run_id": "r2"}], "r2")
    assert plan_revisits(archive.manifest_rows(), 30, NOW + timedelta(days=38))["u/r.html"].etag == '"v1"'
    [fetch] = report_fetches(archive)
    assert (fetch["run_id"], fetch["fetched_at"], fetch["last_fetched_at"]) == ("r1", NOW - timedelta(days=40), NOW)


def test_the_spider_asks_conditionally_and_accepts_304(tmp_path):
    from spiders.report_spider import ReportSpider
    from spiders.sources import load_sources

    (tmp_path / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    sources = load_sources(tmp_path / "sources.yaml", base_url="http://127.0.0.1:9")
    url = "http://127.0.0.1:9/gk/ndbg/t1.html"
    revisit = Revisit(url, "report", "county", "f" * 64, 123, NOW, etag='"v1"')
    spider = ReportSpider(sources, "run", known_urls={url, "http://127.0.0.1:9/gk/ndbg/t2.html"},
                          revisits={url: revisit})
    request = spider._request(url, sources[0], "report")
    assert request.headers.get("If-None-Match") == b'"v1"'
    assert 304 in request.meta["handle_httpstatus_list"] and request.meta["revisit_of"] == "f" * 64
    plain = spider._request("http://127.0.0.1:9/gk/ndbg/t3.html", sources[0], "report")
    assert plain.headers.get("If-None-Match") is None and "revisit_of" not in plain.meta


def test_bad_revisit_days_is_one_line():
    for bad in ("-1", "nan"):
        done = subprocess.run([sys.executable, "-m", "spiders.run", "--sources", "x.yaml", "--archive", "a",
                               "--run-id", "r", "--revisit-days", bad], capture_output=True, text=True, cwd=PROJECT)
        assert done.returncode == 2 and "--revisit-days must not be negative" in done.stderr
        assert "Traceback" not in done.stderr


# ---------------------------------------------------------------- crawling the demo server, two rounds

def report_page(year: int, edited: bool = False) -> str:
    items = 1200 + year + (7 if edited else 0)
    return (f"<html><head><meta charset='utf-8'><title>青禾县{year}年政府信息公开工作年度报告</title></head>"
            f"<body><h1>青禾县{year}年政府信息公开工作年度报告</h1><p>本年度主动公开政府信息{items}条。</p>"
            "</body></html>")


def write_site(root: Path) -> None:
    folder = root / "site" / "gk" / "ndbg"
    folder.mkdir(parents=True)
    rows = "".join(f"<li><a href='./t{year}.html' title='青禾县{year}年政府信息公开工作年度报告'>"
                   f"青禾县{year}年政府信息公开工作年度报告</a><span>{year + 1}-01-20</span></li>"
                   for year in (2024, 2023, 2022))
    (folder / "index.html").write_text(f"<html><head><meta charset='utf-8'><title>年报</title></head>"
                                       f"<body><ul class='list'>{rows}</ul></body></html>", encoding="utf-8")
    for year in (2024, 2023, 2022):
        (folder / f"t{year}.html").write_text(report_page(year), encoding="utf-8")
    edited = root / "site_round2" / "gk" / "ndbg"
    edited.mkdir(parents=True)
    (edited / "t2023.html").write_text(report_page(2023, edited=True), encoding="utf-8")


def crawl(root: Path, run_id: str, base: str, *extra: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "spiders.run", "--sources", str(root / "sources.yaml"),
                           "--archive", str(root / "raw"), "--run-id", run_id, "--profile", "loopback",
                           "--base-url", base, "--progress", "off", *extra],
                          capture_output=True, text=True, cwd=PROJECT, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((root / "raw" / "manifest" / f"crawl-{run_id}.summary.json").read_text(encoding="utf-8"))
    summary["line"] = done.stdout
    return summary


@pytest.mark.slow
def test_second_round_edit_is_archived_beside_the_first(tmp_path):
    write_site(tmp_path)
    (tmp_path / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    with serve_portal(tmp_path / "site") as server:
        first = crawl(tmp_path, "r1", server.base_url)
        assert first["totals"]["reports"] == 3
        server.set_round(2)
        quiet = crawl(tmp_path, "r2", server.base_url)           # the default: nothing is 30 days old
        assert quiet["totals"].get("reports", 0) == 0 and quiet["totals"]["already_archived"] == 3
        assert quiet["totals"].get("revisited", 0) == 0
        again = crawl(tmp_path, "r3", server.base_url, "--revisit-days", "0")
    assert again["totals"]["revisited"] == 3 and again["totals"]["revisit_changed"] == 1
    assert "3 archived pages revisited, 1 changed" in again["line"]
    archive = RawArchive(tmp_path / "raw")
    url = f"{server.base_url}/gk/ndbg/t2023.html"
    fetches = [r for r in archive.manifest_rows() if r["url"] == url and r["status"] == 200]
    assert [r["run_id"] for r in fetches] == ["r1", "r3"]
    bodies = [archive.read(r["sha256"]).decode("utf-8") for r in fetches]
    assert "主动公开政府信息3223条" in bodies[0] and "主动公开政府信息3230条" in bodies[1]
    others = [r for r in archive.manifest_rows() if r["run_id"] == "r3" and r["kind"] == "report" and r["url"] != url]
    assert len(others) == 2
    first_shas = {r["url"]: r["sha256"] for r in archive.manifest_rows() if r["run_id"] == "r1"}
    for r in others:  # unchanged: a 304 to If-None-Match, naming the body archived before
        assert r["status"] == 304 and r["sha256"] == first_shas[r["url"]]


def test_summary_table_shows_revisits_only_when_there_were_some():
    from rich.console import Console

    from spiders.progress import summary_table

    entry = {"pages_fetched": 5, "reports": 3, "attachments": 0, "already_archived": 0, "errors": 0,
             "status": "ok", "warnings": [], "revisited": 3, "revisit_changed": 1}
    summary = {"run_id": "r3", "finish_reason": "finished", "sources": {"county": entry},
               "totals": {k: v for k, v in entry.items() if isinstance(v, int)}}
    console = Console(record=True, width=140)
    console.print(summary_table(summary))
    text = console.export_text()
    assert "revisited" in text and "changed" in text
    quiet = {**summary, "totals": {**summary["totals"], "revisited": 0}}
    console = Console(record=True, width=140)
    console.print(summary_table(quiet))
    assert "revisited" not in console.export_text()


def test_a_304_keeps_the_body_archived_before(tmp_path):
    from scrapy.http import HtmlResponse, Response

    from spiders.archive_pipeline import ArchivePipeline, summarize
    from spiders.report_spider import ReportSpider
    from spiders.sources import load_sources

    (tmp_path / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    sources = load_sources(tmp_path / "sources.yaml", base_url="http://127.0.0.1:9")
    archive = RawArchive(tmp_path / "raw")
    old_sha = archive.put(b"<html>old</html>")
    same, edited = "http://127.0.0.1:9/gk/ndbg/t1.html", "http://127.0.0.1:9/gk/ndbg/t2.html"
    revisits = {u: Revisit(u, "report", "county", old_sha, 16, NOW, etag='"v1"') for u in (same, edited)}
    spider = ReportSpider(sources, "run", known_urls=set(revisits), revisits=revisits)
    pipeline = ArchivePipeline.__new__(ArchivePipeline)
    pipeline.archive, pipeline.rows = archive, []
    not_modified = Response(same, status=304, request=spider._request(same, sources[0], "report"),
                            headers={"ETag": '"v1"'})
    (row,) = list(spider.parse_page(not_modified))
    kept = pipeline.process_item(row)
    assert (kept["status"], kept["sha256"], kept["size"], kept["etag"]) == (304, old_sha, 16, '"v1"')
    changed = HtmlResponse(edited, status=200, body=b"<html>new</html>", encoding="utf-8",
                           request=spider._request(edited, sources[0], "report"), headers={"ETag": '"v2"'})
    kept = pipeline.process_item(next(iter(spider.parse_page(changed))))
    assert kept["sha256"] != old_sha and archive.read(kept["sha256"]) == b"<html>new</html>"
    assert archive.read(old_sha) == b"<html>old</html>"                       # the old body stays
    totals = summarize(pipeline.rows, spider)["totals"]
    assert (totals["revisited"], totals["revisit_changed"], totals["errors"]) == (2, 1, 0)


@pytest.mark.slow
def test_an_attachment_that_failed_is_asked_for_by_the_next_run(tmp_path):
    """Run 1 archives a report page but its attachment fails (a 500, retries off); run 2, with nothing
    due a revisit, fetches that page again to reach the attachment, and leaves the other pages alone."""
    write_site(tmp_path)
    folder = tmp_path / "site" / "gk" / "ndbg"
    page = (folder / "t2023.html").read_text(encoding="utf-8")
    (folder / "t2023.html").write_text(page.replace("</body>", "<a href='./t2023.xlsx'>附件：统计表.xlsx</a></body>"),
                                       encoding="utf-8")
    (folder / "t2023.xlsx").write_bytes(b"PK\x03\x04 not a real workbook")
    (tmp_path / "site" / "_faults.json").write_text(json.dumps({"fail_once": ["/gk/ndbg/t2023.xlsx"]}))
    (tmp_path / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    with serve_portal(tmp_path / "site") as server:
        crawl(tmp_path, "r1", server.base_url, "--set", "RETRY_ENABLED=False")
        crawl(tmp_path, "r2", server.base_url)
        url = f"{server.base_url}/gk/ndbg/t2023.xlsx"
    rows = RawArchive(tmp_path / "raw").manifest_rows()
    assert [(r["run_id"], r["status"]) for r in rows if r["url"] == url] == [("r1", 500), ("r2", 200)]
    fetched_in_r2 = sorted(r["url"].rsplit("/", 1)[1] for r in rows if r["run_id"] == "r2" and r["kind"] in ("report", "attachment"))
    assert fetched_in_r2 == ["t2023.html", "t2023.xlsx"]
