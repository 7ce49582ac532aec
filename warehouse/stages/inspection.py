"""Read-only looks at a built warehouse: what its identity checks found, a table's first rows,
the per-agency figures and the totals the demo prints.

Each function opens the DuckDB file read-only for its query and closes it, so it never holds
the file against the next build (which swaps a new file in: warehouse.stages.build).
Dagster's asset checks and previews and the demo call these; the SQL lives here, not above.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

# mart_agency_year rows from the national level down (ties by agency id, then year)
_LEVEL_ORDER = ("case level when 'national' then 0 when 'provincial' then 1 when 'prefecture' then 2 "
                "when 'county' then 3 when 'zone' then 4 when 'township' then 5 else 6 end")


@contextmanager
def _read_only(db_path: str | Path) -> Iterator:
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as con:
        yield con


@dataclass(frozen=True)
class CheckFailures:
    """One family of identity checks in fct_check_results."""
    evaluated: int                             # rows of the family (one per report and check)
    failing: list[tuple[str, int, str]]        # (agency_name, report_year, check_name), by year then agency


def check_failures(db_path: str | Path, prefix: str) -> CheckFailures:
    """The checks whose check_name starts with `prefix` (a family of warehouse.checks.CHECK_FAMILIES)."""
    with _read_only(db_path) as con:
        failing = con.execute(
            """select r.agency_name, r.report_year, c.check_name from fct_check_results c
               join dim_report r using (report_id)
               where not c.passed and starts_with(c.check_name, ?) order by 2, 1, 3""", [prefix]).fetchall()
        [evaluated] = con.execute("select count(*) from fct_check_results where starts_with(check_name, ?)",
                                  [prefix]).fetchone()
    return CheckFailures(evaluated, failing)


def preview_markdown(db_path: str | Path, table: str, limit: int = 10, max_columns: int = 14) -> str:
    """The first rows (and columns) of a table or view as a markdown table."""
    with _read_only(db_path) as con:
        quoted = '"' + table.replace('"', '""') + '"'
        cur = con.execute(f"select * from {quoted} limit {int(limit)}")
        columns = [d[0] for d in cur.description][:max_columns]
        rows = cur.fetchall()
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join("" if v is None else str(v) for v in row[:max_columns]) + " |")
    return "\n".join(lines)


def agency_years(db_path: str | Path) -> list[tuple]:
    """mart_agency_year as (agency_name, report_year, requests_received, granted_full, granted_part,
    reconsiderations_total, lawsuits_total, failed_checks), national level first."""
    with _read_only(db_path) as con:
        return con.execute(f"""
            select agency_name, report_year, requests_received, granted_full, granted_part,
                   reconsiderations_total, lawsuits_total, failed_checks
            from mart_agency_year
            order by {_LEVEL_ORDER}, agency_id, report_year""").fetchall()


def warehouse_totals(db_path: str | Path) -> dict[str, int]:
    """What the warehouse holds: agencies with reports, reports, their years and eras, facts,
    failed checks and documents quarantined."""
    with _read_only(db_path) as con:
        cur = con.execute("""
            select (select count(*) from dim_agency where report_count > 0) as agencies,
                   (select count(*) from dim_report) as reports,
                   (select count(distinct report_year) from dim_report) as years,
                   (select count(distinct era) from dim_report) as eras,
                   (select count(*) from fct_requests) + (select count(*) from fct_reviews)
                     + (select count(*) from fct_proactive_disclosure) as facts,
                   (select count(*) from fct_check_results where not passed) as failed_checks,
                   (select count(*) from stg_quarantine) as quarantined""")
        row = cur.fetchone()
        return dict(zip((d[0] for d in cur.description), row))


def missing_reports_per_source(db_path: str | Path) -> dict[str, int]:
    """Rows of mart_report_timeliness with status `missing`, counted per source: the source the
    agency's other reports were crawled from (its most frequent one), or 'no source' for a body
    of the registry no crawl has found a report of. Largest count first."""
    with _read_only(db_path) as con:
        rows = con.execute("""
            with agency_source as (
                select agency_id, source_id from stg_reports
                where source_id is not null
                group by agency_id, source_id
                qualify row_number() over (partition by agency_id order by count(*) desc, source_id) = 1
            )
            select coalesce(s.source_id, 'no source') as source, count(*) as missing
            from mart_report_timeliness t
            left join agency_source s using (agency_id)
            where t.status = 'missing'
            group by all
            order by missing desc, source""").fetchall()
    return dict(rows)


@dataclass(frozen=True)
class ReportChanges:
    """fct_report_changes rows whose newer version was first seen after a point in time."""
    figures: int                                  # rows (figures changed, added or removed)
    reports: list[tuple[str, str, int, int]]      # (agency_id, agency_name, report_year, figures), by agency then year
    latest_first_seen_at: str | None              # the newest first_seen_at of any report (ISO), for the next run


def report_changes_since(db_path: str | Path, since: str | None) -> ReportChanges:
    """The changes between versions whose newer version was first seen after `since` (an ISO
    timestamp; None: every change)."""
    with _read_only(db_path) as con:
        found = con.execute("""
            select c.agency_id, coalesce(a.agency_name, c.agency_id), c.report_year, count(*)
            from fct_report_changes c
            left join dim_agency a using (agency_id)
            where ?::timestamptz is null or c.new_first_seen_at > ?::timestamptz
            group by all
            order by 1, 3""", [since, since]).fetchall()
        [latest] = con.execute("select max(first_seen_at) from dim_report").fetchone()
    return ReportChanges(sum(n for *_, n in found), [tuple(r) for r in found],
                         latest.isoformat() if latest is not None else None)
