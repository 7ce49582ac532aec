"""The Dagster code location: crawl -> raw archive -> parsed Parquet -> one asset per SQL model.

Thin by design: every asset calls `spiders.launch` or `warehouse`; no parsing here.
"""

import datetime as dt
import os
import uuid
from pathlib import Path

from dagster import (
    AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetExecutionContext, AssetKey, AssetSelection,
    AssetSpec, BackfillPolicy, Config, ConfigurableResource, DefaultScheduleStatus, Definitions, MaterializeResult,
    MetadataValue, ScheduleDefinition, StaticPartitionsDefinition, asset, define_asset_job, in_process_executor,
    multi_asset,
)

from spiders.sources import LIVE_CRAWL_ENV
from warehouse.stages.build import load_models
from warehouse.checks import CHECK_FAMILIES
from warehouse.storage.paths import PROJECT_ROOT, DataPaths
from warehouse.stages.workers import DOC_MEMORY_MB, DOC_TIMEOUT_SECONDS

# Identity checks on fct_check_results: Dagster check name -> check_name prefix in the table.
IDENTITY_CHECKS = CHECK_FAMILIES  # declared once, in the domain


# The regulations took effect in 2008; a year's report appears early the next year.
FIRST_REPORT_YEAR = 2008
REPORT_YEARS = StaticPartitionsDefinition([str(y) for y in range(FIRST_REPORT_YEAR, dt.date.today().year + 1)])


def all_years_tags() -> dict[str, str]:
    """Run tags that make one run cover every report_year partition (a single-run backfill)."""
    keys = REPORT_YEARS.get_partition_keys()
    return {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}


class DisclosureSettings(ConfigurableResource):
    """Where data lives and what to crawl. Defaults need no secrets and never reach outside 127.0.0.1."""
    data_dir: str = ""
    sources_path: str = str(PROJECT_ROOT / "sources.yaml")
    registry_path: str = str(PROJECT_ROOT / "agencies.yaml")
    crawl_profile: str = "polite"
    base_url: str = ""
    # Real sites are crawled only when this is on (or DISCLOSURE_LIVE_CRAWL=1).
    live_crawl: bool = False
    # A source whose reachable reports fall by more than this share since the last crawl fails a check.
    max_report_drop_share: float = 0.5
    # Limits of one document's parse (warehouse.stages.workers): past one, it is quarantined, not retried.
    doc_timeout: float = DOC_TIMEOUT_SECONDS
    doc_memory_mb: int = DOC_MEMORY_MB

    @property
    def paths(self) -> DataPaths:
        return DataPaths(Path(self.data_dir).resolve()) if self.data_dir else DataPaths.default()

    def live_crawl_allowed(self) -> bool:
        return self.live_crawl or os.environ.get(LIVE_CRAWL_ENV) == "1"


class CrawlConfig(Config):
    # walk every listing to its end; otherwise only sources not walked in full for 7 days are
    full_walk: bool = False


@asset(group_name="acquire",
       check_specs=[AssetCheckSpec("every_source_yields_reports", asset="raw_archive"),
                    AssetCheckSpec("reports_per_source_not_falling", asset="raw_archive")],
       description="Crawl the sources registry; every response body kept content-addressed with a manifest row.")
def raw_archive(context: AssetExecutionContext, settings: DisclosureSettings, config: CrawlConfig):
    from spiders.health import latest_full_walks, sources_that_dropped
    from spiders.launch import run_crawl
    from spiders.sources import load_sources

    paths = settings.paths
    sources = load_sources(settings.sources_path, base_url=settings.base_url or None)
    remote = sorted(s.id for s in sources if not s.is_local)
    skipped = ("no enabled sources" if not sources else
               "live crawling off" if remote and not settings.live_crawl_allowed() else None)
    if skipped:
        context.log.warning(f"not crawling: {skipped} {remote or ''} (enable sources and set DISCLOSURE_LIVE_CRAWL=1)")
        yield MaterializeResult(metadata={"skipped": skipped, "sources": remote})
        for check in ("every_source_yields_reports", "reports_per_source_not_falling"):
            yield AssetCheckResult(check_name=check, passed=True, severity=AssetCheckSeverity.WARN,
                                   metadata={"skipped": skipped})
        return
    run_id = f"{context.run.run_id[:8]}-{uuid.uuid4().hex[:6]}"
    summary = run_crawl(Path(settings.sources_path), paths.archive, run_id,
                        profile=settings.crawl_profile, base_url=settings.base_url or None,
                        full_walk=config.full_walk)
    per_source = summary.get("sources", {})
    # the crawl's own verdict: reports archived by earlier runs count, so a quiet night passes
    empty = sorted(sid for sid, counts in per_source.items() if counts.get("status") == "no_reports")
    yield MaterializeResult(metadata={
        "run_id": run_id, "archive": str(paths.archive),
        **{k: v for k, v in summary.items() if isinstance(v, (int, float, str)) and k != "log_tail"},
    })
    yield AssetCheckResult(check_name="every_source_yields_reports", passed=bool(per_source) and not empty,
                           metadata={"sources_without_reports": ", ".join(empty) or "none"})
    dropped = sources_that_dropped(latest_full_walks(paths.archive, run_id), summary,
                                   settings.max_report_drop_share)
    yield AssetCheckResult(check_name="reports_per_source_not_falling", passed=not dropped, metadata={
        "max_drop_share": settings.max_report_drop_share,
        "dropped": ", ".join(f"{s}: {a} -> {b}" for s, (a, b) in dropped.items()) or "none"})


class ParseConfig(Config):
    reparse: bool = False  # parse the selected years' documents again, ignoring the parse cache
    retry_quarantined: bool = False  # parse again the documents quarantined at a limit (timeout, memory, worker_died)


@asset(group_name="parse", deps=[raw_archive], partitions_def=REPORT_YEARS,
       backfill_policy=BackfillPolicy.single_run(),
       description="Parse archived reports (cached by sha256) into Parquet datasets partitioned by report_year. "
                   "All partitions: every year whose inputs changed is rewritten, the others carried over; "
                   "some partitions: a backfill of those years.")
def parsed_reports(context: AssetExecutionContext, settings: DisclosureSettings, config: ParseConfig):
    from warehouse.stages.parse_archive import parse_archive

    paths = settings.paths
    keys = context.partition_keys if context.has_partition_key_range or context.has_partition_key else []
    years = [int(k) for k in keys] if keys and set(keys) != set(REPORT_YEARS.get_partition_keys()) else None
    summary = parse_archive(paths.archive, paths.parsed, settings.registry_path, years=years, reparse=config.reparse,
                            doc_timeout=settings.doc_timeout, doc_memory_mb=settings.doc_memory_mb,
                            retry_quarantined=config.retry_quarantined)
    context.log.info(f"parse: {summary.as_dict()}")
    return MaterializeResult(metadata={
        "unchanged": summary.unchanged, "backfill": MetadataValue.json(years or "all years"),
        "years_rewritten": MetadataValue.json(summary.years_rewritten),
        "years_carried": MetadataValue.json(summary.years_carried),
        "left_for_full_run": summary.left_for_full_run,
        "documents": summary.documents, "parsed_now": summary.parsed_now, "reports": summary.reports,
        "facts": summary.facts, "failed_checks": summary.failed_checks,
        "quarantined": MetadataValue.json(summary.quarantined), "path": str(paths.parsed),
        "over_limits": summary.over_limits, "doc_timeout": summary.doc_timeout, "doc_memory_mb": summary.doc_memory_mb,
    })


MODELS = load_models()


def markdown_preview(con, table: str, limit: int = 10) -> str:
    """The first rows of a table as a markdown table, for the asset page."""
    cur = con.execute(f"select * from {table} limit {limit}")
    columns = [d[0] for d in cur.description][:14]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in cur.fetchall():
        lines.append("| " + " | ".join("" if v is None else str(v) for v in row[:14]) + " |")
    return "\n".join(lines)


@multi_asset(
    name="warehouse_models", group_name="warehouse", can_subset=False,
    specs=[AssetSpec(name, deps=[*m.deps] or [parsed_reports], description=m.description,
                     kinds={"duckdb", "sql"})
           for name, m in MODELS.items()],
    check_specs=[AssetCheckSpec(check, asset="fct_check_results") for check in IDENTITY_CHECKS],
)
def warehouse_models(context: AssetExecutionContext, settings: DisclosureSettings):
    """All SQL models, built together into a new DuckDB file swapped in atomically."""
    import duckdb

    from warehouse.stages.build import build_warehouse

    paths = settings.paths
    stats = build_warehouse(paths.parsed, paths.database)
    with duckdb.connect(str(paths.database), read_only=True) as con:
        for name, s in stats.items():
            metadata = {"rows": s["rows"], "seconds": s["seconds"], "materialization": s["materialization"],
                        "unchanged": s["unchanged"], "database": str(paths.database)}
            if name.startswith(("mart_", "dim_")):
                metadata["preview"] = MetadataValue.md(markdown_preview(con, name))
            yield MaterializeResult(asset_key=AssetKey(name), metadata=metadata)
        for check, prefix in IDENTITY_CHECKS.items():
            failing = con.execute(
                """select r.agency_name, r.report_year, c.check_name from fct_check_results c
                   join dim_report r using (report_id)
                   where not c.passed and c.check_name like ? || '%' order by 2, 1, 3""", [prefix]).fetchall()
            evaluated = con.execute("select count(*) from fct_check_results where check_name like ? || '%'",
                                    [prefix]).fetchone()[0]
            yield AssetCheckResult(
                asset_key="fct_check_results", check_name=check, passed=not failing,
                severity=AssetCheckSeverity.WARN,  # a report breaking its identity is flagged, not repaired
                metadata={"evaluated": evaluated, "failing_reports": len(failing),
                          "failing": MetadataValue.md("\n".join(f"- {a} {y}: {c}" for a, y, c in failing[:50]) or "none")})


crawl_parse_build = define_asset_job("crawl_parse_build", selection="*", executor_def=in_process_executor,
                                     tags=all_years_tags(),
                                     description="Crawl the sources, parse new documents, rebuild the warehouse.")

backfill_report_years = define_asset_job(
    "backfill_report_years", selection=AssetSelection.assets(parsed_reports).downstream(),
    executor_def=in_process_executor,  # partitioned by report_year like parsed_reports
    description="Parse the archived reports of the selected years again (no crawl) and rebuild the warehouse.")


# The job's tags make each nightly run cover every report_year partition.
nightly = ScheduleDefinition(name="nightly_crawl_parse_build", job=crawl_parse_build, cron_schedule="30 2 * * *",
                             execution_timezone="Asia/Shanghai", default_status=DefaultScheduleStatus.STOPPED)


defs = Definitions(
    assets=[raw_archive, parsed_reports, warehouse_models],
    jobs=[crawl_parse_build, backfill_report_years],
    schedules=[nightly],
    resources={"settings": DisclosureSettings()},
)
