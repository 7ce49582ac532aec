"""A run killed with SIGKILL in the middle of the parse or the build, then run again,
gives the identical warehouse; the kill never leaves a half-written current version."""
import subprocess
import sys
import textwrap

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
