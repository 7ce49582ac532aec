"""The parse stage and the SQL model runner on a small archive written by the test."""
import datetime as dt

import duckdb
import pytest

from warehouse.storage.archive import RawArchive
from warehouse.stages.build import build_warehouse, load_models, model_order
from warehouse.stages.parse_archive import parse_archive

pytestmark = pytest.mark.slow  # DuckDB builds

PROSE_2014 = """青石县水务局2014年政府信息公开工作年度报告
一、概述
本报告由青石县水务局编制。
二、主动公开政府信息情况
2014年，我局主动公开政府信息120条。
三、依申请公开政府信息情况
2014年，我局共收到政府信息公开申请5件，同意公开4件，不予公开1件。
四、因政府信息公开申请行政复议、提起行政诉讼的情况
2014年，我局未发生因政府信息公开申请提起行政复议、行政诉讼的情况。
"""


def manifest_row(archive, body: bytes, url: str, title: str, kind="report", status=200, **extra):
    sha = archive.put(body) if status == 200 else None
    row = dict(url=url, final_url=url, status=status, content_type="text/plain; charset=utf-8",
               encoding="utf-8", sha256=sha, size=len(body), fetched_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
               source_id="test", link_title=title, referer=None, kind=kind, run_id="r1", error=None)
    row.update(extra)
    return row


def test_model_order_puts_dependencies_first():
    models = load_models()
    order = model_order(models)
    for name, model in models.items():
        for dep in model.deps:
            assert order.index(dep) < order.index(name), (dep, name)
    assert {"dim_agency", "dim_report", "fct_requests", "fct_reviews", "fct_proactive_disclosure",
            "fct_check_results", "mart_agency_year", "dim_metric"} <= set(models)


def test_archive_to_warehouse_keeps_one_report_per_text_and_quarantines_junk(tmp_path):
    archive = RawArchive(tmp_path / "raw")
    body = PROSE_2014.encode("utf-8")
    rows = [
        manifest_row(archive, body, "http://127.0.0.1/a/1.html", "青石县水务局2014年政府信息公开工作年度报告"),
        # the same report at a second URL
        manifest_row(archive, body, "http://127.0.0.1/b/1.html", "青石县水务局2014年政府信息公开工作年度报告"),
        manifest_row(archive, b"\x00\x01\x02 not a report", "http://127.0.0.1/x.bin", "附件", kind="attachment"),
        manifest_row(archive, b"", "http://127.0.0.1/gone.html", "2015年年报", status=404),
    ]
    archive.write_manifest(rows, "r1")
    summary = parse_archive(tmp_path / "raw", tmp_path / "parsed")
    assert summary.reports == 1
    assert sum(summary.quarantined.values()) == 1
    db = tmp_path / "wh.duckdb"
    stats = build_warehouse(tmp_path / "parsed", db)
    assert stats["dim_report"]["rows"] == 1
    with duckdb.connect(str(db), read_only=True) as con:
        (sources,) = con.execute("select report_source_count from dim_report").fetchone()
        assert sources == 2
        assert con.execute("select count(*) from stg_quarantine").fetchone()[0] == 1
    # nothing new: the second parse and build do nothing and keep the current version
    current = (tmp_path / "parsed" / "current").resolve()
    again = parse_archive(tmp_path / "raw", tmp_path / "parsed")
    assert again.unchanged and again.parsed_now == 0 and again.reports == 1
    assert (tmp_path / "parsed" / "current").resolve() == current
    mtime = db.stat().st_mtime_ns
    assert all(s["unchanged"] for s in build_warehouse(tmp_path / "parsed", db).values())
    assert db.stat().st_mtime_ns == mtime
    # a new fetch makes the next parse and build run again
    archive.write_manifest([manifest_row(archive, PROSE_2014.replace("120条", "121条").encode(),
                                         "http://127.0.0.1/c/1.html", "青石县水务局2014年政府信息公开工作年度报告")], "r2")
    third = parse_archive(tmp_path / "raw", tmp_path / "parsed")
    assert not third.unchanged and third.parsed_now == 1
    assert not any(s["unchanged"] for s in build_warehouse(tmp_path / "parsed", db).values())


def test_build_replaces_the_file_while_a_reader_holds_it_open(tmp_path):
    archive = RawArchive(tmp_path / "raw")
    archive.write_manifest([manifest_row(archive, PROSE_2014.encode(), "http://127.0.0.1/a.html", "t")], "r1")
    parse_archive(tmp_path / "raw", tmp_path / "parsed")
    db = tmp_path / "wh.duckdb"
    build_warehouse(tmp_path / "parsed", db)
    reader = duckdb.connect(str(db), read_only=True)
    try:
        build_warehouse(tmp_path / "parsed", db, force=True)   # must not fail or block
        assert reader.execute("select count(*) from dim_report").fetchone()[0] == 1
    finally:
        reader.close()
    assert not list(tmp_path.glob(".wh.duckdb.building-*"))


def test_failed_build_keeps_the_previous_database(tmp_path):
    sql_dir = tmp_path / "sql"
    sql_dir.mkdir()
    (sql_dir / "good.sql").write_text("select 1 as x")
    (sql_dir / "good.yml").write_text("grain: one row\nkey: [x]\nnot_null: [x]\ncolumns: [x]\n")
    db = tmp_path / "wh.duckdb"
    build_warehouse(tmp_path, db, sql_dir=sql_dir)
    (sql_dir / "bad.sql").write_text("select * from no_such_table")
    (sql_dir / "bad.yml").write_text("grain: one row\nkey: [x]\nnot_null: [x]\ncolumns: [x]\n")
    with pytest.raises(duckdb.Error):
        build_warehouse(tmp_path, db, sql_dir=sql_dir)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select x from good").fetchone()[0] == 1
