"""Report-year partitions: a run rewrites only the years whose inputs changed, carries the
others over untouched (same files), and a one-year backfill (CLI or Dagster) leaves the
warehouse exactly as a full run would."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.warehouse_fixture import build_demo_warehouse
from warehouse.storage.paths import DataPaths
from warehouse.stages.parse_archive import parse_archive
from warehouse.storage.schemas import DATASETS
from warehouse.storage.parsed import current_version

pytestmark = pytest.mark.slow  # parse stage and Dagster runs

AGENCIES = ("qcs", "sxq", "flx-bsz")   # provincial, county, township: all three eras


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A demo data dir parsed and built once; tests work on copies."""
    return build_demo_warehouse(tmp_path_factory.mktemp("partitions"), agencies=AGENCIES)


@pytest.fixture
def data(reference, tmp_path) -> DataPaths:
    shutil.copytree(reference.paths.root, tmp_path / "data", symlinks=True)
    return DataPaths(tmp_path / "data")


@pytest.fixture
def registry(reference) -> Path:
    return reference.paths.root.parent / "portal" / "agencies.yaml"


def snapshot(parsed: Path) -> dict[str, list]:
    """Every row of every dataset of the current version (but which parser made it), in a stable order."""
    con = duckdb.connect()
    return {name: sorted(map(repr, con.execute(
        f"select * {'exclude (parser_version)' if name == 'reports' else ''} "
        f"from read_parquet('{current_version(parsed)}/{name}/**/*.parquet', union_by_name = true)").fetchall()))
        for name in DATASETS}


def year_files(parsed: Path) -> dict[int, set[int]]:
    """report_year -> inodes of its Parquet files (a carried-over year keeps them)."""
    out: dict[int, set[int]] = {}
    for part in current_version(parsed).resolve().glob("*/report_year=*/*.parquet"):
        out.setdefault(int(part.parent.name.split("=")[1]), set()).add(part.stat().st_ino)
    return out


def mart(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select * exclude (failed_checks) from mart_agency_year order by all").fetchall()


def hold_back(archive: Path, year: int) -> dict:
    """Drop one report fetch of `year` from the manifest; returns a function putting it back."""
    [manifest] = (archive / "manifest").glob("*.parquet")
    table = pq.read_table(manifest)
    rows = table.to_pylist()
    index = next(i for i, r in enumerate(rows) if r["kind"] == "report" and f"{year}年" in r["link_title"])
    pq.write_table(table.filter(pa.array([i != index for i in range(len(rows))])), manifest)
    return lambda: pq.write_table(table, manifest)


def test_no_change_rerun_writes_nothing(data, registry):
    before = current_version(data.parsed).resolve()
    summary = parse_archive(data.archive, data.parsed, registry)
    assert summary.unchanged and summary.parsed_now == 0
    assert current_version(data.parsed).resolve() == before


def test_new_document_rewrites_only_its_year(data, registry, reference):
    expected = snapshot(data.parsed)
    put_back = hold_back(data.archive, 2021)
    parse_archive(data.archive, data.parsed, registry, force=True)
    files_before = year_files(data.parsed)
    put_back()

    summary = parse_archive(data.archive, data.parsed, registry)
    assert summary.years_rewritten == [2021]
    assert 2021 not in summary.years_carried and len(summary.years_carried) == len(files_before) - 1
    files_after = year_files(data.parsed)
    for year in summary.years_carried:
        assert files_after[year] == files_before[year], f"{year} was rewritten"
    assert files_after[2021].isdisjoint(files_before[2021])
    assert snapshot(data.parsed) == expected
    assert parse_archive(data.archive, data.parsed, registry).unchanged


def test_parser_change_rewrites_every_year(data, registry, monkeypatch):
    expected = snapshot(data.parsed)
    monkeypatch.setattr("warehouse.stages.parse_archive.parser_fingerprint", lambda: "another-parser")
    summary = parse_archive(data.archive, data.parsed, registry)
    assert summary.years_carried == [] and summary.parsed_now == summary.documents
    assert snapshot(data.parsed) == expected
    with duckdb.connect() as con:
        versions = con.execute(f"select distinct parser_version from "
                               f"'{current_version(data.parsed)}/reports/**/*.parquet'").fetchall()
    assert versions == [("another-parser",)]


def test_backfill_one_year_touches_only_that_year(data, registry, reference):
    expected, files_before = snapshot(data.parsed), year_files(data.parsed)
    summary = parse_archive(data.archive, data.parsed, registry, years=[2019], reparse=True)
    reports_2019 = sum(1 for r in reference.reports if r["report_year"] == 2019)
    assert summary.years_rewritten == [2019] and summary.parsed_now == reports_2019
    files_after = year_files(data.parsed)
    assert all(files_after[y] == files_before[y] for y in files_before if y != 2019)
    assert files_after[2019].isdisjoint(files_before[2019])
    assert snapshot(data.parsed) == expected
    # the next nightly run finds every year as it was
    again = parse_archive(data.archive, data.parsed, registry)
    assert again.unchanged and again.years_rewritten == []


def test_backfill_leaves_other_years_new_documents_for_the_full_run(data, registry):
    expected = snapshot(data.parsed)
    put_back = hold_back(data.archive, 2021)
    parse_archive(data.archive, data.parsed, registry, force=True)
    put_back()
    backfill = parse_archive(data.archive, data.parsed, registry, years=[2019])
    assert backfill.left_for_full_run == 1 and backfill.years_rewritten == [2019]
    full = parse_archive(data.archive, data.parsed, registry)
    assert full.years_rewritten == [2021]
    assert snapshot(data.parsed) == expected


def test_backfill_command_rebuilds_the_warehouse(data, registry, reference):
    proc = subprocess.run([sys.executable, "-m", "app.cli", "backfill", "--year", "2022", "--reparse",
                           "--data-dir", str(data.root), "--registry", str(registry)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "2022" in proc.stdout and "mart_agency_year" in proc.stdout
    assert mart(data.database) == mart(reference.database)


def test_backfill_command_without_archive_is_a_clear_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "app.cli", "backfill", "--year", "2022",
                           "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "no raw archive" in proc.stderr


def test_dagster_backfill_of_one_partition(data, registry, reference):
    from dagster import AssetKey, DagsterInstance

    from pipelines.definitions import REPORT_YEARS, defs
    from pipelines.resources import ParseSettingsResource, pipeline_resources

    assert {"2008", "2019", "2024"} <= set(REPORT_YEARS.get_partition_keys())
    files_before = year_files(data.parsed)
    resources = pipeline_resources(data, parsing=ParseSettingsResource(registry_path=str(registry)))
    instance = DagsterInstance.ephemeral()
    result = defs.resolve_job_def("backfill_report_years").execute_in_process(
        partition_key="2020", resources=resources, instance=instance,
        run_config={"ops": {"parsed_reports": {"config": {"reparse": True}}}})
    assert result.success
    [event] = [e for e in result.get_asset_materialization_events()
               if e.asset_key == AssetKey("parsed_reports")]
    assert event.partition == "2020"
    metadata = event.materialization.metadata
    assert metadata["years_rewritten"].value == [2020] and metadata["parsed_now"].value > 0
    assert instance.get_materialized_partitions(AssetKey("parsed_reports")) == {"2020"}
    files_after = year_files(data.parsed)
    assert all(files_after[y] == files_before[y] for y in files_before if y != 2020)
    assert mart(data.database) == mart(reference.database)
    # the nightly job covers every partition in one run
    tags = defs.resolve_job_def("crawl_parse_build").tags
    keys = REPORT_YEARS.get_partition_keys()
    assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == (keys[0], keys[-1])
    assert os.environ.get("DISCLOSURE_LIVE_CRAWL") != "1"


def test_year_made_with_another_registry_is_made_again(data, registry, tmp_path):
    expected = snapshot(data.parsed)
    other = tmp_path / "agencies.yaml"
    other.write_text(registry.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert parse_archive(data.archive, data.parsed, other, years=[2019]).years_rewritten == [2019]
    # the nightly run with the usual registry makes 2019 again, and only 2019
    again = parse_archive(data.archive, data.parsed, registry)
    assert again.years_rewritten == [2019] and 2019 not in again.years_carried
    assert snapshot(data.parsed) == expected
