"""Smoke test: the Dagster definitions load and every job, schedule and check resolves; a run
writes where its resources say."""
import pytest

from pipelines.definitions import IDENTITY_CHECKS, MODELS, WAREHOUSE_CHECKS, defs

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
    assert set(IDENTITY_CHECKS) | set(WAREHOUSE_CHECKS) | {"every_source_yields_reports"} <= checks
    assert {"mart_report_timeliness", "fct_report_changes", "mart_reconciliation", "mart_scorecard"} <= keys


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
    assert set(checks) == set(IDENTITY_CHECKS) | set(WAREHOUSE_CHECKS)
    assert all(checks[c].metadata["evaluated"].value > 0 for c in IDENTITY_CHECKS)

    def mart(db):
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute("select * from mart_agency_year order by all").fetchall()
    assert mart(elsewhere / "warehouse.duckdb") == mart(reference.database)


def test_checks_of_missing_reports_and_of_reports_changed_since_the_last_run(tmp_path):
    """Three builds on one Dagster instance: the first warns of every change between versions, the
    second (nothing new) passes, the third warns of the version first seen since the second."""
    from dagster import AssetKey, DagsterInstance

    from tests.hand_warehouse import Agency, Report, write_parsed

    agencies = [Agency("g", "岚州市枫林县人民政府", "county"), Agency("d", "枫林县教育局", "department", parent="g")]
    v1 = Report("v1", "d", 2021, [("/d/r.html", "2022-01-02 00:00", "2022-01-02 00:00")],
                facts=[("requests", "received_new", "total", 7)])
    v2 = Report("v2", "d", 2021, [("/d/r.html", "2022-02-01 00:00", "2022-02-01 00:00")],
                facts=[("requests", "received_new", "total", 8)])
    v3 = Report("v3", "d", 2021, [("/d/r.html", "2022-03-02 00:00", "2022-03-02 00:00")],
                facts=[("requests", "received_new", "total", 9), ("requests", "granted", "total", 2)])
    g = Report("g21", "g", 2021, [("/g/r.html", "2022-03-01 00:00", "2022-03-01 00:00")], published="2022-03-01",
               source="page_field")
    run_config = {"resources": {"parsed_store": {"config": {"folder": str(tmp_path / "parsed")}},
                                "warehouse": {"config": {"database": str(tmp_path / "wh.duckdb")}}}}
    instance = DagsterInstance.ephemeral()

    def run() -> dict:
        result = defs.resolve_job_def("crawl_parse_build").execute_in_process(
            run_config=run_config, instance=instance, asset_selection=[AssetKey(m) for m in MODELS])
        assert result.success
        return {c.check_name: c for c in result.get_asset_check_evaluations() if c.check_name in WAREHOUSE_CHECKS}

    write_parsed(tmp_path / "parsed", agencies, [g, v1, v2])
    first = run()
    missing = first["missing_reports_per_source"]
    # g is expected 2021 only (the warehouse's one year); d reported: nothing missing
    assert missing.passed and missing.metadata["missing"].value == 0
    changed = first["reports_changed_since_last_run"]
    assert not changed.passed and changed.severity.value == "WARN"
    assert changed.metadata["figures_changed"].value == 1 and changed.metadata["since"].value == "the first run"
    assert "枫林县教育局 (d) 2021: 1 figure(s)" in changed.metadata["changed"].value

    second = run()
    assert second["reports_changed_since_last_run"].passed
    assert second["reports_changed_since_last_run"].metadata["since"].value == "2022-03-01T00:00:00+00:00"

    write_parsed(tmp_path / "parsed", agencies, [g, v1, v2, v3, Report(
        "g22", "g", 2022, [("/g/r22.html", "2023-04-02 00:00", "2023-04-02 00:00")])])
    third = run()
    assert third["reports_changed_since_last_run"].metadata["figures_changed"].value == 2   # v2 -> v3 only
    missing = third["missing_reports_per_source"]
    assert not missing.passed and missing.metadata["per_source"].value == {"hand": 1}     # d 2022
