"""Nightly crawls stop paging a newest-first column at a page of archived reports, and walk
in full when a source is due (--full-walk-days) or asked to (--full-walk).

The site is written by the test: one column of three pages (index.html, index_1.html,
index_2.html), three reports per page, newest year first, rewritten between crawls.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from demo_portal.server import serve_portal
from spiders.discovery import Link, listed_newest_first

pytestmark = pytest.mark.slow  # crawls a local server

PROJECT = Path(__file__).resolve().parents[1]
COLUMN = "/gk/ndbg/"
PER_PAGE = 3

SOURCES = """
sources:
  - id: county
    name: 青禾县 政府信息公开年报
    family: trs_static
    entry_urls: ["{BASE}/gk/ndbg/index.html"]
    allowed_domains: [127.0.0.1]
    enabled: true
"""


def report_page(year: int, name: str) -> str:
    return (f"<html><head><meta charset='utf-8'><title>{name}{year}年政府信息公开工作年度报告</title></head>"
            f"<body><h1>{name}{year}年政府信息公开工作年度报告</h1><p>本年度主动公开政府信息{year - 1900}条。</p>"
            "</body></html>")


def write_column(site: Path, reports: list[tuple[int, str]]) -> None:
    """`reports`: (year, file stem) in the order listed; pages of PER_PAGE with createPageHTML."""
    folder = site / COLUMN.strip("/")
    folder.mkdir(parents=True, exist_ok=True)
    pages = [reports[i:i + PER_PAGE] for i in range(0, len(reports), PER_PAGE)]
    for n, items in enumerate(pages):
        rows = "".join(f"<li><a href='./{stem}.html' title='青禾县{year}年政府信息公开工作年度报告'>"
                       f"青禾县{year}年政府信息公开工作年度报告</a><span>{year + 1}-01-20</span></li>"
                       for year, stem in items)
        script = f"<script>createPageHTML({len(pages)}, {n}, \"index\", \"html\");</script>"
        name = "index.html" if n == 0 else f"index_{n}.html"
        (folder / name).write_text(f"<html><head><meta charset='utf-8'><title>政府信息公开年报</title></head>"
                                   f"<body><ul class='list'>{rows}</ul>{script}</body></html>", encoding="utf-8")
    for year, stem in reports:
        (folder / f"{stem}.html").write_text(report_page(year, "青禾县"), encoding="utf-8")


def crawl(sources: Path, archive: Path, run_id: str, base: str, *extra: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "spiders.run", "--sources", str(sources), "--archive", str(archive),
                           "--run-id", run_id, "--profile", "loopback", "--base-url", base, "--progress", "off",
                           *extra], cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads((archive / "manifest" / f"crawl-{run_id}.summary.json").read_text(encoding="utf-8"))


def listing_requests(requested: list[str]) -> list[str]:
    return sorted(p for p in requested if p.startswith(COLUMN + "index"))


def test_newest_first_needs_two_years_never_rising():
    links = lambda *years: [Link(f"http://x/{i}.html", f"某局{y}年政府信息公开工作年度报告") for i, y in enumerate(years)]
    assert listed_newest_first(links(2024, 2023, 2023, 2021))
    assert not listed_newest_first(links(2021, 2022, 2023))   # oldest first: new reports land on the last page
    assert not listed_newest_first(links(2023, 2023))          # one year: the order is unknown
    assert not listed_newest_first(links(2023))
    assert not listed_newest_first([Link("http://x/a.html", "政府信息公开工作年度报告")])


def test_partial_walk_then_new_report_then_full_walk(tmp_path):
    site = tmp_path / "site"
    reports = [(year, f"r{year}") for year in range(2024, 2015, -1)]  # 9 reports, 3 pages
    write_column(site, reports)
    sources = tmp_path / "sources.yaml"
    sources.write_text(SOURCES, encoding="utf-8")
    archive = tmp_path / "raw"
    with serve_portal(site) as server:
        base = server.base_url

        first = crawl(sources, archive, "n1", base)["sources"]["county"]
        assert first["reports"] == 9 and first["listing_walk"] == "full"
        assert listing_requests(server.requests) == [COLUMN + p for p in ("index.html", "index_1.html", "index_2.html")]

        # Nothing new: page 1 lists archived reports only, newest first; pages 2 and 3 are not asked for.
        server.requests.clear()
        second = crawl(sources, archive, "n2", base)["sources"]["county"]
        assert listing_requests(server.requests) == [COLUMN + "index.html"]
        assert second["listing_walk"] == "partial" and second["listing_pages_not_walked"] == 2
        assert second["reports"] == 0 and second["status"] == "ok" and second["warnings"] == []

        # A new report on top: page 1 is not all archived, the column is walked and the report fetched.
        reports.insert(0, (2025, "r2025"))
        write_column(site, reports)
        server.requests.clear()
        third = crawl(sources, archive, "n3", base)["sources"]["county"]
        assert third["reports"] == 1 and third["listing_walk"] == "full"
        assert COLUMN + "r2025.html" in server.requests

        # A late report inserted deep in the column is missed by a partial walk ...
        reports.append((2014, "r2014-late"))
        write_column(site, reports)
        server.requests.clear()
        fourth = crawl(sources, archive, "n4", base)["sources"]["county"]
        assert fourth["listing_walk"] == "partial" and fourth["reports"] == 0
        # ... and found by the next full walk: asked for, or due (here: full walks older than 0 days)
        fifth = crawl(sources, archive, "n5", base, "--full-walk")["sources"]["county"]
        assert fifth["listing_walk"] == "full" and fifth["reports"] == 1
        assert COLUMN + "r2014-late.html" in server.requests
        sixth = crawl(sources, archive, "n6", base, "--full-walk-days", "0")["sources"]["county"]
        assert sixth["listing_walk"] == "full" and sixth["already_archived"] == 11


@pytest.mark.parametrize("order", ["oldest_first", "one_year"])
def test_no_partial_walk_where_the_order_is_unknown(tmp_path, order):
    site = tmp_path / "site"
    if order == "oldest_first":
        reports = [(year, f"r{year}") for year in range(2016, 2025)]
    else:  # nine bodies' reports of one year: the page says nothing about what the later pages hold
        reports = [(2023, f"r{i}") for i in range(9)]
    write_column(site, reports)
    sources = tmp_path / "sources.yaml"
    sources.write_text(SOURCES, encoding="utf-8")
    with serve_portal(site) as server:
        crawl(sources, tmp_path / "raw", "n1", server.base_url)
        server.requests.clear()
        second = crawl(sources, tmp_path / "raw", "n2", server.base_url)["sources"]["county"]
        assert second["listing_walk"] == "full"
        assert len(listing_requests(server.requests)) == 3
