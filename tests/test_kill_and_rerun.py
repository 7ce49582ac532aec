"""A run killed with SIGKILL in the middle of the crawl, the parse or the build, then run
again, gives the identical warehouse; the kill never leaves a half-written current version."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from tests.warehouse_fixture import build_demo_warehouse
from warehouse.build import build_warehouse
from warehouse.parse_archive import parse_archive

TABLES = ("dim_report", "fct_requests", "fct_reviews", "fct_proactive_disclosure", "fct_check_results",
          "mart_agency_year")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A warehouse built without interruption from a small archive of demo reports."""
    return build_demo_warehouse(tmp_path_factory.mktemp("reference"), agencies=("qcs", "sxq", "flx-bsz"))


def snapshot(db) -> dict:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: sorted(map(repr, con.execute(f"select * exclude (report_id) from {t}").fetchall()))
                if "report_id" in [c[0] for c in con.execute(f"describe {t}").fetchall()]
                else sorted(map(repr, con.execute(f"select * from {t}").fetchall())) for t in TABLES}


def run_and_kill(code: str) -> None:
    """Run `code` in a child Python that SIGKILLs itself where the code says; it must die by SIGKILL."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, (proc.returncode, proc.stderr[-2000:])


def test_parse_killed_midway_then_rerun(reference, tmp_path):
    paths = reference.paths
    registry = paths.root.parent / "portal" / "agencies.yaml"
    parsed = tmp_path / "parsed"
    # first, a run killed after 10 documents: nothing becomes current
    run_and_kill(f"""
        import os, signal
        import warehouse.parse_archive as pa
        real, count = pa.parse_cached, [0]
        def dying(*args, **kwargs):
            count[0] += 1
            if count[0] == 10:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        pa.parse_cached = dying
        pa.parse_archive({str(paths.archive)!r}, {str(parsed)!r}, {str(registry)!r})
    """)
    assert not (parsed / "current").exists()
    parse_archive(paths.archive, parsed, registry)
    build_warehouse(parsed, tmp_path / "wh.duckdb")
    assert snapshot(tmp_path / "wh.duckdb") == snapshot(reference.database)
    # a second kill, now with a current version in place: it stays current and whole
    before = (parsed / "current").resolve()
    run_and_kill(f"""
        import os, signal
        import warehouse.store as store
        real = store.DatasetWriter.close
        def dying(self):
            if self.folder.name == "facts":
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self)
        store.DatasetWriter.close = dying
        import warehouse.parse_archive as pa
        pa.parse_archive({str(paths.archive)!r}, {str(parsed)!r}, {str(registry)!r}, force=True)
    """)
    assert (parsed / "current").resolve() == before
    build_warehouse(parsed, tmp_path / "wh2.duckdb")
    assert snapshot(tmp_path / "wh2.duckdb") == snapshot(reference.database)
    # a one-year backfill killed after the other years were carried over (hard links to the
    # current version's files): the current version stays whole, and so does the next run
    run_and_kill(f"""
        import os, signal
        import warehouse.store as store
        real = store.DatasetWriter.close
        def dying(self):
            if self.folder.name == "facts":
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self)
        store.DatasetWriter.close = dying
        import warehouse.parse_archive as pa
        pa.parse_archive({str(paths.archive)!r}, {str(parsed)!r}, {str(registry)!r}, years=[2019])
    """)
    assert (parsed / "current").resolve() == before
    assert parse_archive(paths.archive, parsed, registry, years=[2019]).years_rewritten == [2019]
    build_warehouse(parsed, tmp_path / "wh3.duckdb")
    assert snapshot(tmp_path / "wh3.duckdb") == snapshot(reference.database)
    assert len(list(parsed.glob("@*"))) == 1   # the killed run's folder is gone


def test_build_killed_midway_then_rerun(reference, tmp_path):
    db = tmp_path / "wh.duckdb"
    build_warehouse(reference.paths.parsed, db)
    before = snapshot(db)
    run_and_kill(f"""
        import os, signal
        import warehouse.build as build
        real, count = build.render, [0]
        def dying(sql, parsed_dir):
            count[0] += 1
            if count[0] == 12:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(sql, parsed_dir)
        build.render = dying
        build.build_warehouse({str(reference.paths.parsed)!r}, {str(db)!r}, force=True)
    """)
    assert snapshot(db) == before          # the old file is untouched
    build_warehouse(reference.paths.parsed, db)
    assert snapshot(db) == snapshot(reference.database)
    assert not [p for p in tmp_path.glob(".wh.duckdb.building-*")]


def crawl_portal(sources: Path, archive: Path, run_id: str, base_url: str) -> subprocess.Popen:
    log = archive.parent / f"crawl-{run_id}.log"  # a file, not a pipe nobody reads while waiting
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as stderr:
        return subprocess.Popen([sys.executable, "-m", "spiders.run", "--sources", str(sources), "--archive",
                                 str(archive), "--run-id", run_id, "--profile", "loopback", "--base-url", base_url,
                                 "--progress", "off"], stdout=subprocess.DEVNULL, stderr=stderr)


def test_crawl_killed_midway_then_rerun(tmp_path):
    """The demo portal crawled once without interruption, and once killed after 80 requests and
    crawled again: parse and build of both archives give the same warehouse."""
    from demo_portal.generate import generate_portal
    from demo_portal.server import serve_portal

    portal = tmp_path / "portal"
    generate_portal(portal)
    registry, sources = portal / "agencies.yaml", portal / "sources.yaml"
    databases = {}
    with serve_portal(portal / "site") as server:
        for label in ("reference", "killed"):
            archive = tmp_path / label / "raw"
            start = len(server.requests)
            if label == "killed":
                crawl = crawl_portal(sources, archive, "k1", server.base_url)
                deadline = time.monotonic() + 60
                while len(server.requests) - start < 80 and time.monotonic() < deadline:
                    time.sleep(0.005)
                os.kill(crawl.pid, signal.SIGKILL)
                crawl.wait(timeout=10)
                asked = len(server.requests) - start
                assert crawl.returncode == -9 and asked < full_crawl / 2, (asked, full_crawl)  # killed mid-crawl
                assert any((archive / "objects").rglob("*"))                # bodies were being stored …
                assert not list((archive / "manifest").glob("*.parquet"))  # … but no manifest, not half of one
            crawl = crawl_portal(sources, archive, f"{label}-full", server.base_url)
            assert crawl.wait(timeout=120) == 0, (archive.parent / f"crawl-{label}-full.log").read_text()[-2000:]
            if label == "reference":
                full_crawl = len(server.requests) - start
            parse_archive(archive, tmp_path / label / "parsed", registry)
            databases[label] = tmp_path / label / "wh.duckdb"
            build_warehouse(tmp_path / label / "parsed", databases[label])
    reference = snapshot(databases["reference"])
    assert len(reference["dim_report"]) > 150   # the portal's reports, not an empty warehouse
    assert snapshot(databases["killed"]) == reference
