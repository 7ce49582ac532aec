"""Crawl progress (spiders.progress) and the `disclosure crawl` command, on the demo portal
served on 127.0.0.1 (and on 127.0.0.2, a loopback address that counts as a live site)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from demo_portal.generate import generate_portal, resolve_base
from demo_portal.server import serve_portal
from spiders.launch import run_crawl

pytestmark = pytest.mark.slow  # crawls in subprocesses

PROJECT = Path(__file__).resolve().parents[1]
ONE_COLUMN = "/qcs/zfxxgknb/index.html"  # one agency's column: a short crawl
PROGRESS_LINE = re.compile(r"^progress: elapsed \S+, pages (\d+), .*reports (\d+), attachments (\d+), errors (\d+)",
                           re.M)


def column_sources(path: Path, host: str) -> Path:
    path.write_text(f"""
sources:
  - id: qcs-column
    name: 青川省人民政府 信息公开年报
    family: trs_static
    entry_urls: ["{{BASE}}{ONE_COLUMN}"]
    allowed_domains: [{host}]
    enabled: true
""", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def portal(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("portal")
    generate_portal(out)
    return out


@pytest.fixture(scope="module")
def server(portal):
    with serve_portal(portal / "site") as srv:
        yield srv


def spiders_run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spiders.run", *args], cwd=PROJECT, capture_output=True,
                          text=True, timeout=120, env=env)


def disclosure(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=PROJECT, capture_output=True,
                          text=True, timeout=120, env=env)


def summary_of(archive: Path) -> dict:
    (path,) = (archive / "manifest").glob("crawl-*.summary.json")
    return json.loads(path.read_text(encoding="utf-8"))


def summary_seconds(summary: dict) -> float:
    return (datetime.fromisoformat(summary["finished_at"]) - datetime.fromisoformat(summary["started_at"])).total_seconds()


def test_plain_progress_lines_and_summary_table(tmp_path, portal, server):
    interval = 0.2
    done = spiders_run("--sources", str(portal / "sources.yaml"), "--archive", str(tmp_path / "raw"),
                       "--run-id", "plain", "--profile", "loopback", "--base-url", server.base_url,
                       "--progress", "plain", "--progress-interval", str(interval))
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("crawl plain: ")   # the one-line summary, on stdout as before
    lines = PROGRESS_LINE.findall(done.stderr)
    summary = summary_of(tmp_path / "raw")
    totals = summary["totals"]
    # periodic lines (the crawl lasts a few intervals), then the last state: never a flood
    assert 3 <= len(lines) <= summary_seconds(summary) / interval + 2, done.stderr
    pages, reports, attachments, _ = (int(n) for n in lines[-1])
    assert (reports, attachments) == (totals["reports"], totals["attachments"])
    assert pages == totals["pages_fetched"]
    assert [int(line[0]) for line in lines] == sorted(int(line[0]) for line in lines)
    assert "current demo-portal" in done.stderr
    # the closing table: a row per source and the totals
    table = done.stderr[done.stderr.rindex("crawl plain (finished)"):]
    assert re.search(rf"demo-portal\W+{totals['pages_fetched']}\W+{totals['reports']}\W+{totals['attachments']}\W", table)
    assert re.search(rf"total\W+{totals['pages_fetched']}\W+{totals['reports']}\W", table)
    assert "Traceback" not in done.stderr


def test_rich_progress_renders_when_forced(tmp_path, server):
    sources = column_sources(tmp_path / "sources.yaml", "127.0.0.1")
    done = spiders_run("--sources", str(sources), "--archive", str(tmp_path / "raw"), "--run-id", "rich",
                       "--profile", "loopback", "--base-url", server.base_url, "--progress", "rich")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", done.stderr)
    assert "\x1b[" in done.stderr                    # drawn as on a terminal, though stderr is a pipe
    assert "─ crawl rich ─" in plain and "retries waiting" in plain   # the live panel
    assert "crawl rich (finished)" in plain and "qcs-column" in plain  # the closing table
    assert not PROGRESS_LINE.search(plain)
    assert summary_of(tmp_path / "raw")["sources"]["qcs-column"]["status"] == "ok"


def test_disclosure_crawl_archives_the_portal(tmp_path, portal, server):
    done = disclosure("crawl", "--sources", str(portal / "sources.yaml"), "--data-dir", str(tmp_path / "data"),
                      "--profile", "loopback", "--base-url", server.base_url)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "progress: " in done.stderr               # not a terminal: plain lines
    archive = tmp_path / "data" / "raw"
    summary = summary_of(archive)
    assert summary["sources"]["demo-portal"]["status"] == "ok"
    (manifest,) = (archive / "manifest").glob("crawl-*.parquet")
    fetched = {r["url"] for r in pq.read_table(manifest).to_pylist() if r["status"] == 200}
    key = json.loads((portal / "answer_key.json").read_text(encoding="utf-8"))
    for report in key["reports"]:
        for url in report["urls"]:
            assert resolve_base(url, server.base_url) in fetched


def test_disclosure_crawl_refuses_live_sites(tmp_path, portal):
    # 127.0.0.2 is on this machine, but not one of the local hosts (spiders.sources.is_local_url):
    # to the crawl it is a live site
    with serve_portal(portal / "site", host="127.0.0.2") as live:
        sources = column_sources(tmp_path / "sources.yaml", "127.0.0.2")
        args = ("crawl", "--sources", str(sources), "--data-dir", str(tmp_path / "data"),
                "--profile", "loopback", "--base-url", live.base_url)
        env = {k: v for k, v in os.environ.items() if k != "DISCLOSURE_LIVE_CRAWL"}
        refused = disclosure(*args, env=env)
        assert refused.returncode == 2
        assert "qcs-column" in refused.stderr and "DISCLOSURE_LIVE_CRAWL=1" in refused.stderr
        assert not live.requests and not (tmp_path / "data").exists()

        allowed = disclosure(*args, env={**env, "DISCLOSURE_LIVE_CRAWL": "1"})
        assert allowed.returncode == 0, allowed.stderr[-3000:]
        assert ONE_COLUMN in live.requests


def test_launch_passes_progress_lines_through(tmp_path, server, capfd):
    """Dagster's raw_archive crawls through spiders.launch: its log gets the progress as it comes."""
    sources = column_sources(tmp_path / "sources.yaml", "127.0.0.1")
    summary = run_crawl(sources, tmp_path / "raw", "launch", profile="loopback", base_url=server.base_url)
    err = capfd.readouterr().err
    assert PROGRESS_LINE.search(err) and "crawl launch (finished)" in err
    assert summary["sources"]["qcs-column"]["status"] == "ok"
    assert "crawl launch (finished)" in summary["log_tail"]

    with pytest.raises(RuntimeError, match="unknown source ids"):
        run_crawl(sources, tmp_path / "raw", "unknown", source_ids=["nowhere"])
    assert "unknown source ids" in capfd.readouterr().err
