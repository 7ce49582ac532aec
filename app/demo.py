"""`disclosure demo`: the whole pipeline on the bundled demo portal, served on 127.0.0.1.

Generates the portal, serves it, crawls it once (the first night), switches the server to its
round 2 (a report edited in place since), then materialises the Dagster job in process (recorded in
$DAGSTER_HOME, so `make ui` shows the run) with a crawl that revisits every archived report
(revisit_days 0), so the edited report reaches the warehouse as a new version. Prints a cross-year
comparison and the answer key's scores (demo_portal.verify: timeliness, changes, reconciliation).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from warehouse.storage.paths import DataPaths

DEMO_PORT = 8765
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _n(value) -> str:
    return "—" if value is None else f"{value:g}"


def comparison_tables(rows: list[tuple]) -> tuple[list[str], list[list[str]], list[list[str]], list[str]]:
    """Agency × year pivots of `warehouse.stages.inspection.agency_years`:
    'received (granted + in part)' and 'reconsiderations / lawsuits'."""
    years = sorted({r[1] for r in rows})
    agencies = list(dict.fromkeys(r[0] for r in rows))
    cells = {(r[0], r[1]): r for r in rows}
    requests, reviews, failures = [], [], []
    for agency in agencies:
        req, rev = [agency], [agency]
        for year in years:
            r = cells.get((agency, year))
            req.append("" if r is None else f"{_n(r[2])} ({_n(r[3])}+{_n(r[4])})")
            rev.append("" if r is None else f"{_n(r[5])} / {_n(r[6])}")
            if r is not None and r[7]:
                failures.append(f"{agency} {year}: {', '.join(r[7])}")
        requests.append(req)
        reviews.append(rev)
    return ["agency"] + [str(y) for y in years], requests, reviews, failures


def step_durations(instance, run_id: str) -> dict[str, float]:
    return {s.step_key: round(s.end_time - s.start_time, 2)
            for s in instance.get_run_step_stats(run_id) if s.start_time and s.end_time}


def serve_demo_portal(site: Path):
    """Serve on a fixed port when it is free, so archived URLs stay the same from one demo run to the next."""
    from demo_portal.server import serve_portal

    try:
        return serve_portal(site, port=DEMO_PORT)
    except OSError:
        return serve_portal(site)


def demo_resources(paths: DataPaths, portal_dir: Path, base_url: str, revisit_days: float | None = None) -> dict:
    """The Dagster resources of a run over a generated portal served at base_url: its sources and
    agency registry, the loopback crawl profile, the stores in `paths` (revisit_days None: the default)."""
    from pipelines.resources import CrawlSettingsResource, ParseSettingsResource, pipeline_resources

    revisit = {} if revisit_days is None else {"revisit_days": revisit_days}
    return pipeline_resources(
        paths, crawl=CrawlSettingsResource(sources_path=str(portal_dir / "sources.yaml"), profile="loopback",
                                           base_url=base_url, **revisit),
        parsing=ParseSettingsResource(registry_path=str(portal_dir / "agencies.yaml")))


def first_crawl(paths: DataPaths, portal_dir: Path, base_url: str) -> dict:
    """The portal's first night: one crawl of round 1 into the archive (no parse, no build)."""
    from spiders.gate import new_run_id
    from spiders.launch import run_crawl

    return run_crawl(portal_dir / "sources.yaml", paths.archive, new_run_id(prefix="demo"), profile="loopback",
                     base_url=base_url)


def run_demo(paths: DataPaths) -> int:
    from dagster import DagsterInstance

    from demo_portal.generate import generate_portal
    from demo_portal.verify import verify_warehouse
    from pipelines.definitions import defs
    from warehouse.stages.inspection import agency_years, warehouse_totals
    from warehouse.storage.archive import RawArchive
    from app.console import print_rows

    t0 = time.perf_counter()
    from demo_portal.office import AssetStale
    from demo_portal.scan import FontMissing

    portal_dir = paths.root / "portal"
    try:
        generate_portal(portal_dir)
    except (FontMissing, AssetStale) as exc:
        print(f"error: {exc}")
        return 1
    t_generate = time.perf_counter() - t0
    with serve_demo_portal(portal_dir / "site") as server:
        print(f"demo portal served at {server.base_url}")
        print("first crawl (round 1 of the portal) …", flush=True)
        t1 = time.perf_counter()
        try:
            first_crawl(paths, portal_dir, server.base_url)
        except RuntimeError as exc:
            print(f"the demo's first crawl failed: {str(exc).splitlines()[0]}")
            return 1
        t_first = time.perf_counter() - t1
        server.set_round(2)  # reports edited in place since the first crawl
        resources = demo_resources(paths, portal_dir, server.base_url, revisit_days=0)
        instance = DagsterInstance.get()
        print("round 2: crawling again (every archived report revisited), parsing and building "
              "(Dagster job crawl_parse_build) …", flush=True)
        result = defs.resolve_job_def("crawl_parse_build").execute_in_process(
            resources=resources, instance=instance, run_config=QUIET_LOGS, raise_on_error=False)
    if not result.success:
        print("the demo run failed; see the log above")
        return 1
    header, requests, reviews, failures = comparison_tables(agency_years(paths.database))
    print_rows(header, requests, title="Requests received (granted in full + in part), mart_agency_year")
    print_rows(header, reviews, title="Administrative reconsiderations / lawsuits, mart_agency_year")
    print("Reports that break their own identities (kept as printed, flagged):")
    for line in failures:
        print(f"  {line}")
    totals = warehouse_totals(paths.database)
    manifest_rows = RawArchive(paths.archive).read_manifest().num_rows
    print(f"responses archived (all runs): {manifest_rows}; agencies: {totals['agencies']}; "
          f"reports: {totals['reports']} over {totals['years']} years and {totals['eras']} eras; "
          f"facts: {totals['facts']}; failed checks: {totals['failed_checks']}; "
          f"documents quarantined: {totals['quarantined']}")
    key = json.loads((portal_dir / "answer_key.json").read_text(encoding="utf-8"))
    lines, _ = verify_warehouse(paths.database, key)
    print("Answer key against the warehouse (python -m demo_portal verify):")
    for line in lines:
        print(f"  {line}")
    timings = {"generate portal": round(t_generate, 2), "first crawl": round(t_first, 2),
               **step_durations(instance, result.run_id)}
    print("stage seconds: " + ", ".join(f"{k} {v}" for k, v in timings.items()))
    print(f"DuckDB warehouse: {paths.database}")
    print(f"raw archive:      {paths.archive}")
    return 0
