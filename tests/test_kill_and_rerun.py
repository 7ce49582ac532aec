"""A run killed with SIGKILL in the middle of the crawl, the parse or the build, then run
again, gives the identical warehouse; the kill never leaves a half-written current version."""
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.warehouse_fixture import build_demo_warehouse
from warehouse.stages.build import build_warehouse
from warehouse.stages.parse_archive import parse_archive
from warehouse.storage.archive import RawArchive

pytestmark = pytest.mark.slow  # kills and reruns stages in subprocesses

TABLES = ("dim_report", "fct_requests", "fct_reviews", "fct_proactive_disclosure", "fct_check_results",
          "mart_agency_year")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A warehouse built without interruption from a small archive of demo reports."""
    return build_demo_warehouse(tmp_path_factory.mktemp("reference"), agencies=("qcs", "sxq", "flx-bsz"))


# Columns that differ between two crawls of the same site: the content hash of a re-crawled
# page and the times the crawl saw it.
CRAWL_DEPENDENT = ("report_id", "first_seen_at")


def snapshot(db) -> dict:
    with duckdb.connect(str(db), read_only=True) as con:
        out = {}
        for t in TABLES:
            columns = [c[0] for c in con.execute(f"describe {t}").fetchall()]
            left_out = [c for c in CRAWL_DEPENDENT if c in columns]
            exclude = f"exclude ({', '.join(left_out)})" if left_out else ""
            out[t] = sorted(map(repr, con.execute(f"select * {exclude} from {t}").fetchall()))
        return out


def run_and_kill(code: str) -> int:
    """Run `code` in a child Python that SIGKILLs itself where the code says; it must die by SIGKILL.
    Returns the child's pid."""
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == -9, (proc.returncode, err[-2000:])
    return proc.pid


def parse_workers_of(pid: int) -> list[int]:
    """Parse worker processes (warehouse.stages.workers) started by the process `pid` still running."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"warehouse.stages.workers" in args and str(pid).encode() in args:
            found.append(int(cmdline.parent.name))
    return found


def test_parse_killed_midway_then_rerun(reference, tmp_path):
    paths = reference.paths
    registry = paths.root.parent / "portal" / "agencies.yaml"
    parsed = tmp_path / "parsed"
    # first, a run killed after 10 documents were parsed (by its workers): nothing becomes
    # current, the workers die with it, and what they parsed stays in the cache
    pid = run_and_kill(f"""
        import os, signal
        import warehouse.stages.workers as workers
        real = workers.WorkerPool.run
        def dying(self, tasks):
            for count, outcome in enumerate(real(self, tasks), start=1):
                if count == 10:
                    os.kill(os.getpid(), signal.SIGKILL)
                yield outcome
        workers.WorkerPool.run = dying
        import warehouse.stages.parse_archive as pa
        pa.parse_archive({str(paths.archive)!r}, {str(parsed)!r}, {str(registry)!r})
    """)
    assert not (parsed / "current").exists()
    deadline = time.monotonic() + 10
    while parse_workers_of(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not parse_workers_of(pid), "parse workers outlived the run that started them"
    assert len(list(parsed.glob("_cache/*/*.json"))) >= 9
    assert parse_archive(paths.archive, parsed, registry).parsed_now < len(reference.reports)
    build_warehouse(parsed, tmp_path / "wh.duckdb")
    assert snapshot(tmp_path / "wh.duckdb") == snapshot(reference.database)
    # a second kill, now with a current version in place: it stays current and whole
    before = (parsed / "current").resolve()
    run_and_kill(f"""
        import os, signal
        import warehouse.storage.parsed as store
        real = store.DatasetWriter.close
        def dying(self):
            if self.folder.name == "facts":
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self)
        store.DatasetWriter.close = dying
        import warehouse.stages.parse_archive as pa
        pa.parse_archive({str(paths.archive)!r}, {str(parsed)!r}, {str(registry)!r}, force=True)
    """)
    assert (parsed / "current").resolve() == before
    build_warehouse(parsed, tmp_path / "wh2.duckdb")
    assert snapshot(tmp_path / "wh2.duckdb") == snapshot(reference.database)
    # a one-year backfill killed after the other years were carried over (hard links to the
    # current version's files): the current version stays whole, and so does the next run
    versions = {p.name for p in parsed.glob("@*")}
    run_and_kill(f"""
        import os, signal
        import warehouse.storage.parsed as store
        real = store.DatasetWriter.close
        def dying(self):
            if self.folder.name == "facts":
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self)
        store.DatasetWriter.close = dying
        import warehouse.stages.parse_archive as pa
        pa.parse_archive({str(paths.archive)!r}, {str(parsed)!r}, {str(registry)!r}, years=[2019])
    """)
    assert (parsed / "current").resolve() == before
    killed = {p.name for p in parsed.glob("@*")} - versions
    assert killed   # the killed run's folder was left behind …
    assert parse_archive(paths.archive, parsed, registry, years=[2019]).years_rewritten == [2019]
    build_warehouse(parsed, tmp_path / "wh3.duckdb")
    assert snapshot(tmp_path / "wh3.duckdb") == snapshot(reference.database)
    left = {p.name for p in parsed.glob("@*")}
    assert not killed & left                   # … and the next run removed it
    current = (parsed / "current").resolve().name
    assert current in left and len(left) == 2  # the current version and the one it replaced


def test_build_killed_midway_then_rerun(reference, tmp_path):
    db = tmp_path / "wh.duckdb"
    build_warehouse(reference.paths.parsed, db)
    before = snapshot(db)
    run_and_kill(f"""
        import os, signal
        import warehouse.stages.build as build
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


@dataclass(frozen=True)
class Crawled:
    """The demo portal crawled without interruption, parsed and built: the reference of the crawl tests."""
    portal: Path
    port: int
    root: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def archive(self) -> Path:
        return self.root / "raw"

    @property
    def database(self) -> Path:
        return self.root / "wh.duckdb"

    def objects(self) -> int:
        return stored_objects(self.archive)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, parse_cache) -> Crawled:
    from demo_portal.generate import generate_portal

    root = tmp_path_factory.mktemp("uninterrupted")
    generate_portal(root / "portal")
    crawled = Crawled(root / "portal", free_port(), root)
    server = serve(crawled.portal, crawled.port)
    try:
        crawl = crawl_portal(crawled.portal / "sources.yaml", crawled.archive, "reference", crawled.base_url)
        assert crawl.wait(timeout=180) == 0, (root / "crawl-reference.log").read_text()[-2000:]
    finally:
        server.kill()
        server.wait()
    parse_and_build(crawled, root, parse_cache)
    parse_cache.keep(root / "parsed")
    return crawled


def parse_and_build(crawled: Crawled, root: Path, parse_cache) -> Path:
    """Parse the archive under `root` and build its warehouse. What these tests put to the test is the
    crawl: the session's parse cache spares parsing the portal again (a body the killed crawl stored
    differently has another key and is parsed anew)."""
    parse_cache.seed(root / "parsed")
    parse_archive(root / "raw", root / "parsed", crawled.portal / "agencies.yaml")
    build_warehouse(root / "parsed", root / "wh.duckdb")
    return root / "wh.duckdb"


def stored_objects(archive: Path) -> int:
    return sum(1 for p in (archive / "objects").rglob("*") if p.is_file())


def wait_for_objects(archive: Path, count: float, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and stored_objects(archive) < count:
        time.sleep(0.01)


def test_crawl_killed_midway_then_rerun(uninterrupted, tmp_path, parse_cache):
    """The crawler killed (SIGKILL) midway and crawled again: parse and build give the warehouse of the
    uninterrupted crawl."""
    archive = tmp_path / "raw"
    server = serve(uninterrupted.portal, uninterrupted.port)
    try:
        crawl = crawl_portal(uninterrupted.portal / "sources.yaml", archive, "k1", uninterrupted.base_url)
        wait_for_objects(archive, 0.2 * uninterrupted.objects())
        os.kill(crawl.pid, signal.SIGKILL)
        crawl.wait(timeout=10)
        assert crawl.returncode == -9 and stored_objects(archive) < uninterrupted.objects() / 2  # killed mid-crawl
        assert stored_objects(archive) > 0                          # bodies were being stored …
        assert not list((archive / "manifest").glob("*.parquet"))  # … but no manifest, not half of one
        crawl = crawl_portal(uninterrupted.portal / "sources.yaml", archive, "full", uninterrupted.base_url)
        assert crawl.wait(timeout=180) == 0, (tmp_path / "crawl-full.log").read_text()[-2000:]
    finally:
        server.kill()
        server.wait()
    reference = snapshot(uninterrupted.database)
    assert len(reference["dim_report"]) > 150   # the portal's reports, not an empty warehouse
    killed = snapshot(parse_and_build(uninterrupted, tmp_path, parse_cache))
    for table, rows in reference.items():
        assert killed[table] == rows, (table, sorted(set(killed[table]) ^ set(rows))[:4])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(portal: Path, port: int) -> subprocess.Popen:
    """The demo portal served by a process of its own (so that it can be killed) on `port`."""
    proc = subprocess.Popen([sys.executable, "-m", "demo_portal", "serve", str(portal), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in proc.stdout:
        if line.startswith("serving"):
            return proc
    raise AssertionError(f"the portal server did not start (exit {proc.wait()})")


def fetched_urls(archive: Path) -> set[str]:
    return {r["url"] for r in RawArchive(archive).manifest_rows() if r["status"] == 200 and r["sha256"]}


def test_server_killed_midway_then_crawl_rerun(uninterrupted, tmp_path, parse_cache):
    """The SERVER dies in the middle of a crawl (SIGKILL: connections reset, then refused); the crawl
    ends with what it got; the server comes back; the crawl is run again; parse and build then give
    the warehouse of one uninterrupted crawl, row by row, for every agency and year. Which of several
    documents of one agency and year is its report, and where a report found at several URLs is said
    to be, must not depend on which run fetched what."""
    archive = tmp_path / "raw"
    sources = uninterrupted.portal / "sources.yaml"
    server = serve(uninterrupted.portal, uninterrupted.port)
    crawl = crawl_portal(sources, archive, "k1", uninterrupted.base_url)
    wait_for_objects(archive, 0.4 * uninterrupted.objects())
    server.send_signal(signal.SIGKILL)
    server.wait()
    assert crawl.wait(timeout=180) == 0, (tmp_path / "crawl-k1.log").read_text()[-2000:]
    assert 0 < len(fetched_urls(archive)) < len(fetched_urls(uninterrupted.archive))
    server = serve(uninterrupted.portal, uninterrupted.port)   # back again, on the same address
    try:
        crawl = crawl_portal(sources, archive, "full", uninterrupted.base_url)
        assert crawl.wait(timeout=180) == 0, (tmp_path / "crawl-full.log").read_text()[-2000:]
    finally:
        server.kill()
        server.wait()
    # every document of the uninterrupted crawl was fetched: a report's own URLs, and what its pages
    # link to (the images of a 图片版 page), also where the first run archived the page but lost its links
    with duckdb.connect(str(uninterrupted.database), read_only=True) as con:
        sources_of = {}
        for agency_id, year, urls in con.execute("select agency_id, report_year, urls from dim_report").fetchall():
            sources_of.setdefault((agency_id, year), set()).update(urls)
    for row in RawArchive(uninterrupted.archive).manifest_rows():
        for urls in sources_of.values():
            if row["referer"] in urls and row["status"] == 200 and row["kind"] == "attachment":
                urls.add(row["url"])
    have = fetched_urls(archive)
    not_fetched = sorted(key for key, urls in sources_of.items() if not urls <= have)
    assert not not_fetched, f"documents of {len(not_fetched)} agency-years never fetched, e.g. {not_fetched[:3]}"
    reference, killed = snapshot(uninterrupted.database), snapshot(parse_and_build(uninterrupted, tmp_path, parse_cache))
    for table, rows in reference.items():
        assert killed[table] == rows, (table, sorted(set(killed[table]) ^ set(rows))[:4])


@pytest.fixture(scope="module")
def fetch_orders(tmp_path_factory):
    """The same documents archived by one crawl, and by two runs that fetched them the other way
    round (as a crawl interrupted and run again may): two reports of one agency and year that
    tie on correction, date and facts; one report at two URLs. Both parsed and built."""
    from tests.test_parse_limits import HTML, Archive, clean_2019, clean_2021, title

    docs = [("a/report-1", clean_2021("one"), title("one")), ("a/report-2", clean_2021("two"), title("two")),
            ("a/copy", clean_2019("copy"), "青禾县农业农村局2020年政府信息公开工作年度报告"),
            ("z/copy", clean_2019("copy"), "青禾县农业农村局2020年政府信息公开工作年度报告")]
    root = tmp_path_factory.mktemp("fetch_orders")
    out = {}
    for label, runs in (("one run", [docs]), ("two runs", [[docs[3], docs[1]], [docs[2], docs[0]]])):
        archive = Archive(root / label)
        for n, run in enumerate(runs):
            for name, body, link_title in run:
                archive.add(f"run-{n}", name, body, HTML, link_title)
        parse_archive(archive.raw.root, archive.root / "parsed")
        build_warehouse(archive.root / "parsed", archive.root / "wh.duckdb")
        out[label] = archive.root
    return out


def parsed_rows(parsed: Path, dataset: str, exclude: str = "fetched_at") -> list:
    with duckdb.connect() as con:
        return sorted(map(repr, con.execute(f"select * exclude ({exclude}) from read_parquet("
                                            f"'{parsed}/current/{dataset}/**/*.parquet')").fetchall()))


def test_parse_does_not_depend_on_fetch_order(fetch_orders):
    one, two = fetch_orders["one run"] / "parsed", fetch_orders["two runs"] / "parsed"
    for dataset in ("reports", "report_sources", "facts", "checks", "quarantine", "agencies"):
        exclude = {"reports": "fetched_at, parser_version", "report_sources": "fetched_at, last_fetched_at"}.get(dataset)
        if exclude:
            assert parsed_rows(one, dataset, exclude) == parsed_rows(two, dataset, exclude), dataset
        else:
            with duckdb.connect() as con:
                rows = [sorted(map(repr, con.execute(f"select * from read_parquet('{p}/current/{dataset}/**/*.parquet')")
                                   .fetchall())) for p in (one, two)]
            assert rows[0] == rows[1], dataset
    # the report found at two URLs is said to be at the first by URL, whichever run fetched it
    with duckdb.connect() as con:
        urls = con.execute(f"select url from read_parquet('{two}/current/reports/**/*.parquet') "
                           f"where url like '%copy%'").fetchall()
    assert urls == [("http://127.0.0.1:8799/xxgk/a/copy.html",)]


def test_current_report_does_not_depend_on_fetch_order(fetch_orders):
    snapshots = {}
    for label, root in fetch_orders.items():
        with duckdb.connect(str(root / "wh.duckdb"), read_only=True) as con:
            snapshots[label] = {t: sorted(map(repr, con.execute(f"select * {exclude} from {t}").fetchall()))
                                for t, exclude in (("dim_report", "exclude (first_seen_at)"), ("mart_agency_year", ""),
                                                   ("dim_agency", ""))}
            current = con.execute("select report_id from dim_report where superseded_by is null "
                                  "and agency_name = '云岭市示范区管委会'").fetchall()
    assert snapshots["one run"] == snapshots["two runs"]
    # the rule: no correction, no date, as many facts: the smaller report_id
    with duckdb.connect(str(fetch_orders["one run"] / "wh.duckdb"), read_only=True) as con:
        ids = sorted(r for (r,) in con.execute("select report_id from dim_report "
                                               "where agency_name = '云岭市示范区管委会'").fetchall())
    assert current == [(ids[0],)]
