"""Smoke test: the Dagster definitions load and every job, schedule and check resolves; a run
writes where its resources say."""
import pytest

from pipelines.definitions import IDENTITY_CHECKS, MODELS, defs

pytestmark = pytest.mark.slow  # Dagster runs


def test_definitions_resolve():
    job = defs.resolve_job_def("crawl_parse_build")
    assert job.name == "crawl_parse_build"
    schedule = defs.resolve_schedule_def("nightly_crawl_parse_build")
    assert schedule.cron_schedule == "30 2 * * *"
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"raw_archive", "parsed_reports", "dim_report", "fct_requests", "mart_agency_year"} <= keys
    checks = {c.name for c in graph.asset_check_keys}
    assert set(IDENTITY_CHECKS) | {"every_source_yields_reports"} <= checks


def test_cli_starts_without_dagster_or_scrapy():
    import subprocess
    import sys
    code = ("import sys, app.cli; app.cli.build_parser(); "
            "assert 'dagster' not in sys.modules and 'scrapy' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_committed_data_dictionary_is_up_to_date():
    from pathlib import Path

    from warehouse.metrics import dictionary_markdown
    committed = Path(__file__).resolve().parents[1] / "docs" / "data_dictionary.md"
    assert committed.read_text(encoding="utf-8") == dictionary_markdown(), \
        "regenerate with: .venv/bin/disclosure dictionary --markdown > docs/data_dictionary.md"


def files_under(folder) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_run_writes_where_the_resources_say(tmp_path, monkeypatch):
    """Parse and build with the archive in one folder and the parsed data and warehouse in another,
    pointed there by run config alone: both appear there, the default data directory stays empty."""
    import duckdb
    from dagster import AssetKey, DagsterInstance

    from tests.warehouse_fixture import build_demo_warehouse
    from warehouse.storage.parsed import current_version

    reference = build_demo_warehouse(tmp_path / "reference", agencies=("sxq",))
    archive, registry = reference.paths.archive, reference.paths.root.parent / "portal" / "agencies.yaml"
    elsewhere = tmp_path / "elsewhere"
    default_dir = tmp_path / "default_data_dir"
    monkeypatch.setenv("DISCLOSURE_DATA_DIR", str(default_dir))
    archive_before = files_under(archive)

    run_config = {"resources": {
        "archive": {"config": {"folder": str(archive)}},
        "parsed_store": {"config": {"folder": str(elsewhere / "parsed")}},
        "warehouse": {"config": {"database": str(elsewhere / "warehouse.duckdb")}},
        "parsing": {"config": {"registry_path": str(registry)}},
    }}
    result = defs.resolve_job_def("crawl_parse_build").execute_in_process(
        run_config=run_config, instance=DagsterInstance.ephemeral(),
        asset_selection=[AssetKey("parsed_reports"), *map(AssetKey, MODELS)])
    assert result.success

    assert list(current_version(elsewhere / "parsed").glob("reports/report_year=*/*.parquet"))
    assert (elsewhere / "warehouse.duckdb").is_file()
    assert not default_dir.exists()
    assert files_under(archive) == archive_before       # read, never written
    metadata = {e.asset_key.to_user_string(): e.materialization.metadata
                for e in result.get_asset_materialization_events()}
    assert metadata["parsed_reports"]["path"].value == str(elsewhere / "parsed")
    assert metadata["mart_agency_year"]["database"].value == str(elsewhere / "warehouse.duckdb")
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert set(checks) == set(IDENTITY_CHECKS) and all(c.metadata["evaluated"].value > 0 for c in checks.values())

    def mart(db):
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute("select * from mart_agency_year order by all").fetchall()
    assert mart(elsewhere / "warehouse.duckdb") == mart(reference.database)
