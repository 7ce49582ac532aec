"""Smoke test: the Dagster definitions load and every job, schedule and check resolves."""
from pipelines.definitions import IDENTITY_CHECKS, defs


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
