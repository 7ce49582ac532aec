"""`disclosure demo`: the whole pipeline on the bundled demo portal, served on 127.0.0.1.

Generates the portal, serves it, materialises the Dagster job in process (recorded in
$DAGSTER_HOME, so `make ui` shows the run), and prints a cross-year comparison.
"""
from __future__ import annotations

import time
from pathlib import Path

from warehouse.config import DataPaths

LEVEL_ORDER = "case level when 'national' then 0 when 'provincial' then 1 when 'prefecture' then 2 " \
              "when 'county' then 3 when 'zone' then 4 when 'township' then 5 else 6 end"
COMPARISON_SQL = f"""
select agency_name, report_year as year, era, requests_received as received, granted_full as granted,
       granted_part as partial, reconsiderations_total as reconsid, lawsuits_total as lawsuits,
       case when failed_any_check then 'FAIL: ' || array_to_string(failed_checks, ',') else 'ok' end as checks
from mart_agency_year
order by {LEVEL_ORDER}, agency_id, report_year
"""


def step_durations(result) -> dict[str, float]:
    """Seconds per step of a finished in-process run, from its event log."""
    starts, durations = {}, {}
    for event in result.all_events:
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = event.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in starts:
            durations[event.step_key] = round(event.timestamp - starts[event.step_key], 2)
    return durations


def run_demo(paths: DataPaths) -> int:
    import duckdb
    from dagster import DagsterInstance

    from demo_portal.generate import generate_portal
    from demo_portal.server import serve_portal
    from pipelines.definitions import DisclosureSettings, defs
    from warehouse.archive import RawArchive
    from warehouse.cli import print_rows

    t0 = time.perf_counter()
    portal_dir = paths.root / "portal"
    generate_portal(portal_dir)
    t_generate = time.perf_counter() - t0
    with serve_portal(portal_dir / "site") as server:
        print(f"demo portal served at {server.base_url}")
        settings = DisclosureSettings(
            data_dir=str(paths.root), sources_path=str(portal_dir / "sources.yaml"),
            registry_path=str(portal_dir / "agencies.yaml"), crawl_profile="loopback", base_url=server.base_url)
        job = defs.resolve_job_def("crawl_parse_build")
        result = job.execute_in_process(resources={"settings": settings}, instance=DagsterInstance.get(),
                                        raise_on_error=False)
    if not result.success:
        print("the demo run failed; see the log above")
        return 1
    with duckdb.connect(str(paths.database), read_only=True) as con:
        cur = con.execute(COMPARISON_SQL)
        print_rows([d[0] for d in cur.description], cur.fetchall(),
                   title="Requests and reviews per agency and year (mart_agency_year)")
        counts = con.execute("""
            select (select count(*) from dim_agency where report_count > 0),
                   (select count(*) from dim_report), (select count(distinct report_year) from dim_report),
                   (select count(distinct era) from dim_report),
                   (select count(*) from fct_requests) + (select count(*) from fct_reviews)
                     + (select count(*) from fct_proactive_disclosure),
                   (select count(*) from fct_check_results where not passed),
                   (select count(*) from stg_quarantine)""").fetchone()
    manifest_rows = RawArchive(paths.archive).read_manifest().num_rows
    print(f"responses archived (all runs): {manifest_rows}; agencies: {counts[0]}; reports: {counts[1]} "
          f"over {counts[2]} years and {counts[3]} eras; facts: {counts[4]}; failed checks: {counts[5]}; "
          f"documents quarantined: {counts[6]}")
    timings = {"generate portal": round(t_generate, 2), **step_durations(result)}
    print("stage seconds: " + ", ".join(f"{k} {v}" for k, v in timings.items()))
    print(f"DuckDB warehouse: {paths.database}")
    print(f"raw archive:      {paths.archive}")
    return 0
