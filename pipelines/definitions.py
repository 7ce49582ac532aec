"""The Dagster code location: crawl -> raw archive -> parsed Parquet -> one asset per SQL model.

Thin by design: each asset reads its resources (pipelines.resources: where the stores live, how
the crawl and the parse run), calls one stage (`spiders.launch`, `warehouse.stages`) and turns its
result into Dagster's materialisations and check results; no parsing and no SQL here.
"""

import datetime as dt
from pathlib import Path

from dagster import (
    AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetExecutionContext, AssetKey, AssetSelection,
    AssetSpec, BackfillPolicy, Config, DefaultScheduleStatus, Definitions, MaterializeResult, MetadataValue,
    ScheduleDefinition, StaticPartitionsDefinition, asset, define_asset_job, in_process_executor, multi_asset,
)

from pipelines.resources import (
    CrawlSettingsResource, ParsedStoreResource, ParseSettingsResource, RawArchiveResource, WarehouseResource,
    pipeline_resources,
)
from warehouse.stages.build import load_models
from warehouse.checks import CHECK_FAMILIES

# Identity checks on fct_check_results: Dagster check name -> check_name prefix in the table.
IDENTITY_CHECKS = CHECK_FAMILIES  # declared once, in the domain
# Checks on the timeliness and versions models (issue 15): check name -> the asset it checks.
WAREHOUSE_CHECKS = {"missing_reports_per_source": "mart_report_timeliness",
                    "reports_changed_since_last_run": "fct_report_changes"}
# Metadata of fct_report_changes' materialisation: the newest first_seen_at the build saw, so the
# next run's reports_changed_since_last_run counts only versions first seen after it.
LATEST_FIRST_SEEN = "latest_first_seen_at"


# The regulations took effect in 2008; a year's report appears early the next year.
FIRST_REPORT_YEAR = 2008
REPORT_YEARS = StaticPartitionsDefinition([str(y) for y in range(FIRST_REPORT_YEAR, dt.date.today().year + 1)])


def all_years_tags() -> dict[str, str]:
    """Run tags that make one run cover every report_year partition (a single-run backfill)."""
    keys = REPORT_YEARS.get_partition_keys()
    return {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}


class CrawlConfig(Config):
    # walk every listing to its end; otherwise only sources not walked in full for 7 days are
    full_walk: bool = False


@asset(group_name="acquire",
       check_specs=[AssetCheckSpec("every_source_yields_reports", asset="raw_archive"),
                    AssetCheckSpec("reports_per_source_not_falling", asset="raw_archive")],
       description="Crawl the sources registry; every response body kept content-addressed with a manifest row.")
def raw_archive(context: AssetExecutionContext, archive: RawArchiveResource, crawl: CrawlSettingsResource,
                config: CrawlConfig):
    from spiders.gate import crawl_gate, new_run_id
    from spiders.health import latest_full_walks, sources_that_dropped
    from spiders.launch import run_crawl
    from spiders.sources import load_sources

    sources = load_sources(crawl.sources_path, base_url=crawl.base_url or None)
    gate = crawl_gate(sources, live_allowed=crawl.live_crawl)
    if gate.refused:
        context.log.warning(f"{gate.message} (enable sources and set DISCLOSURE_LIVE_CRAWL=1)")
        yield MaterializeResult(metadata={"skipped": gate.refused, "sources": list(gate.live)})
        for check in ("every_source_yields_reports", "reports_per_source_not_falling"):
            yield AssetCheckResult(check_name=check, passed=True, severity=AssetCheckSeverity.WARN,
                                   metadata={"skipped": gate.refused})
        return
    run_id = new_run_id(prefix=context.run.run_id[:8])
    summary = run_crawl(Path(crawl.sources_path), archive.path, run_id,
                        profile=crawl.profile, base_url=crawl.base_url or None,
                        full_walk=config.full_walk, revisit_days=crawl.revisit_days)
    per_source = summary.get("sources", {})
    # the crawl's own verdict: reports archived by earlier runs count, so a quiet night passes
    empty = sorted(sid for sid, counts in per_source.items() if counts.get("status") == "no_reports")
    yield MaterializeResult(metadata={
        "run_id": run_id, "archive": str(archive.path),
        **{k: v for k, v in summary.items() if isinstance(v, (int, float, str)) and k != "log_tail"},
    })
    yield AssetCheckResult(check_name="every_source_yields_reports", passed=bool(per_source) and not empty,
                           metadata={"sources_without_reports": ", ".join(empty) or "none"})
    dropped = sources_that_dropped(latest_full_walks(archive.path, run_id), summary,
                                   crawl.max_report_drop_share)
    yield AssetCheckResult(check_name="reports_per_source_not_falling", passed=not dropped, metadata={
        "max_drop_share": crawl.max_report_drop_share,
        "dropped": ", ".join(f"{s}: {a} -> {b}" for s, (a, b) in dropped.items()) or "none"})


class ParseConfig(Config):
    reparse: bool = False  # parse the selected years' documents again, ignoring the parse cache
    retry_quarantined: bool = False  # parse again the documents quarantined at a limit (timeout, memory, worker_died)


@asset(group_name="parse", deps=[raw_archive], partitions_def=REPORT_YEARS,
       backfill_policy=BackfillPolicy.single_run(),
       description="Parse archived reports (cached by sha256) into Parquet datasets partitioned by report_year. "
                   "All partitions: every year whose inputs changed is rewritten, the others carried over; "
                   "some partitions: a backfill of those years.")
def parsed_reports(context: AssetExecutionContext, archive: RawArchiveResource, parsed_store: ParsedStoreResource,
                   parsing: ParseSettingsResource, config: ParseConfig):
    from warehouse.stages.parse_archive import parse_archive

    keys = context.partition_keys if context.has_partition_key_range or context.has_partition_key else []
    years = [int(k) for k in keys] if keys and set(keys) != set(REPORT_YEARS.get_partition_keys()) else None
    summary = parse_archive(archive.path, parsed_store.path, parsing.registry_path, years=years,
                            reparse=config.reparse, doc_timeout=parsing.doc_timeout,
                            doc_memory_mb=parsing.doc_memory_mb, retry_quarantined=config.retry_quarantined)
    context.log.info(f"parse: {summary.as_dict()}")
    return MaterializeResult(metadata={
        "unchanged": summary.unchanged, "backfill": MetadataValue.json(years or "all years"),
        "years_rewritten": MetadataValue.json(summary.years_rewritten),
        "years_carried": MetadataValue.json(summary.years_carried),
        "left_for_full_run": summary.left_for_full_run,
        "documents": summary.documents, "parsed_now": summary.parsed_now, "reports": summary.reports,
        "facts": summary.facts, "failed_checks": summary.failed_checks,
        "quarantined": MetadataValue.json(summary.quarantined), "path": str(parsed_store.path),
        "over_limits": summary.over_limits, "doc_timeout": summary.doc_timeout, "doc_memory_mb": summary.doc_memory_mb,
    })


MODELS = load_models()


@multi_asset(
    name="warehouse_models", group_name="warehouse", can_subset=False,
    specs=[AssetSpec(name, deps=[*m.deps] or [parsed_reports], description=m.description,
                     kinds={"duckdb", "sql"})
           for name, m in MODELS.items()],
    check_specs=[AssetCheckSpec(check, asset="fct_check_results") for check in IDENTITY_CHECKS]
                + [AssetCheckSpec(check, asset=asset) for check, asset in WAREHOUSE_CHECKS.items()],
)
def warehouse_models(context: AssetExecutionContext, parsed_store: ParsedStoreResource,
                     warehouse: WarehouseResource):
    """All SQL models, built together into a new DuckDB file swapped in atomically."""
    from warehouse.stages.build import build_warehouse

    since = previous_metadata(context, "fct_report_changes", LATEST_FIRST_SEEN)   # before this run records its own
    stats = build_warehouse(parsed_store.path, warehouse.path)
    changes = warehouse.report_changes_since(since)
    for name, s in stats.items():
        metadata = {"rows": s["rows"], "seconds": s["seconds"], "materialization": s["materialization"],
                    "unchanged": s["unchanged"], "database": str(warehouse.path)}
        if name.startswith(("mart_", "dim_")):
            metadata["preview"] = MetadataValue.md(warehouse.preview_markdown(name))
        if name == "fct_report_changes" and changes.latest_first_seen_at:
            metadata[LATEST_FIRST_SEEN] = changes.latest_first_seen_at
        yield MaterializeResult(asset_key=AssetKey(name), metadata=metadata)
    missing = warehouse.missing_reports_per_source()
    yield AssetCheckResult(
        asset_key="mart_report_timeliness", check_name="missing_reports_per_source", passed=not missing,
        severity=AssetCheckSeverity.WARN,  # a body that did not publish is news, not a broken build
        metadata={"missing": sum(missing.values()), "per_source": MetadataValue.json(missing)})
    yield AssetCheckResult(
        asset_key="fct_report_changes", check_name="reports_changed_since_last_run", passed=not changes.figures,
        severity=AssetCheckSeverity.WARN,
        metadata={"since": since or "the first run", "figures_changed": changes.figures,
                  "reports_changed": len(changes.reports),
                  "changed": MetadataValue.md("\n".join(f"- {agency_name} ({agency}) {year}: {n} figure(s)"
                                                        for agency, agency_name, year, n in changes.reports[:50])
                                              or "none")})
    for check, prefix in IDENTITY_CHECKS.items():
        found = warehouse.check_failures(prefix)
        yield AssetCheckResult(
            asset_key="fct_check_results", check_name=check, passed=not found.failing,
            severity=AssetCheckSeverity.WARN,  # a report breaking its identity is flagged, not repaired
            metadata={"evaluated": found.evaluated, "failing_reports": len(found.failing),
                      "failing": MetadataValue.md("\n".join(f"- {a} {y}: {c}" for a, y, c in found.failing[:50])
                                                  or "none")})


def previous_metadata(context: AssetExecutionContext, asset: str, key: str) -> str | None:
    """A metadata value of the asset's latest materialisation (None when there is none, or it lacks the key)."""
    event = context.instance.get_latest_materialization_event(AssetKey(asset))
    materialization = event.asset_materialization if event else None
    value = materialization.metadata.get(key) if materialization else None
    return value.value if value is not None else None


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
    resources=pipeline_resources(),
)
