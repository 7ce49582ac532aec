"""Versions of a report: every distinct content seen at a report's URLs is kept (a page edited in
place between two crawls, a 更正版 at a new URL); dim_report makes the newest current;
fct_report_changes lists each figure that differs between consecutive versions."""
from __future__ import annotations

import pytest

from tests.hand_warehouse import Agency, Report, as_dicts, build, query
from tests.test_parse_limits import HTML, Archive, clean_2019
from warehouse.stages.build import build_warehouse
from warehouse.stages.parse_archive import parse_archive
from warehouse.storage.parsed import current_version

pytestmark = pytest.mark.slow   # parse and DuckDB builds

TITLE = "青禾县农业农村局2020年政府信息公开工作年度报告"
# table 三, row 本年新收: natural persons 40, total 46 (tests/fixtures/tables/report_2019.html)
RECEIVED = "<td>40</td><td>5</td><td>&nbsp;</td><td></td><td>1</td><td></td><td>46</td>"


def edited(natural: int, total: int) -> bytes:
    body = clean_2019("v").decode("utf-8")
    assert body.count(RECEIVED) == 1
    return body.replace(RECEIVED, RECEIVED.replace("<td>40</td>", f"<td>{natural}</td>")
                        .replace("<td>46</td>", f"<td>{total}</td>")).encode("utf-8")


def changes(db) -> list[tuple]:
    return query(db, """select fact_key, old_value, new_value, change, new_is_correction from fct_report_changes
                        where fact_key like 'requests/received_new/%' order by new_first_seen_at, fact_key""")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """One URL fetched by two crawls with a figure edited in between; parsed and built. Then a
    更正版 at a new URL found by a third crawl, parsed (incrementally) and built again."""
    root = tmp_path_factory.mktemp("versions")
    archive = Archive(root)
    archive.add("run-0", "a/report", edited(40, 46), HTML, TITLE)
    archive.add("run-1", "a/report", edited(41, 47), HTML, TITLE)
    parse_archive(archive.raw.root, root / "parsed")
    build_warehouse(root / "parsed", root / "edited.duckdb")
    archive.add("run-2", "a/report-gzb", edited(42, 48), HTML, TITLE + "（更正版）")
    summary = parse_archive(archive.raw.root, root / "parsed")
    build_warehouse(root / "parsed", root / "corrected.duckdb")
    return root, summary


def test_the_parse_keeps_both_contents_of_one_url(crawled):
    root, _ = crawled
    parsed = current_version(root / "parsed")
    rows = query(root / "edited.duckdb", f"""
        select url, fetched_at < last_fetched_at, fetched_at = last_fetched_at
        from read_parquet('{parsed}/report_sources/**/*.parquet') order by fetched_at""")
    assert [r[0].rsplit("/", 1)[1] for r in rows] == ["report.html", "report.html", "report-gzb.html"]
    reports = query(root / "edited.duckdb", f"select count(*) from read_parquet('{parsed}/reports/**/*.parquet')")
    assert reports == [(3,)]


def test_a_page_edited_in_place_is_superseded_by_its_new_content(crawled):
    root, _ = crawled
    db = root / "edited.duckdb"
    rows = as_dicts(db, """select report_id, superseded_by, replaced_at_url, first_seen_at from dim_report
                           order by first_seen_at""")
    old, new = rows
    assert (old["replaced_at_url"], new["replaced_at_url"]) == (True, False)
    assert old["superseded_by"] == new["report_id"] and new["superseded_by"] is None
    assert query(db, "select requests_received from mart_agency_year") == [(47.0,)]
    assert changes(db) == [("requests/received_new/natural_person", 40.0, 41.0, "changed", False),
                           ("requests/received_new/total", 46.0, 47.0, "changed", False)]
    [(old_id, new_id, old_seen, new_seen)] = query(db, """select distinct old_report_id, new_report_id,
        old_first_seen_at, new_first_seen_at from fct_report_changes""")
    assert (old_id, new_id) == (old["report_id"], new["report_id"]) and old_seen < new_seen


def test_a_correction_at_a_new_url_is_the_next_version(crawled):
    root, summary = crawled
    assert summary.years_rewritten == [2020]
    db = root / "corrected.duckdb"
    assert query(db, "select requests_received from mart_agency_year") == [(48.0,)]
    current = query(db, "select is_correction, url from dim_report where superseded_by is null")
    assert current == [(True, "http://127.0.0.1:8799/xxgk/a/report-gzb.html")]
    assert changes(db) == [("requests/received_new/natural_person", 40.0, 41.0, "changed", False),
                           ("requests/received_new/total", 46.0, 47.0, "changed", False),
                           ("requests/received_new/natural_person", 41.0, 42.0, "changed", True),
                           ("requests/received_new/total", 47.0, 48.0, "changed", True)]


def test_versions_order_added_and_removed_figures(tmp_path):
    """A correction seen before the others is still the last version; a figure only one side
    states is added or removed."""
    agencies = [Agency("a", "青禾县农业农村局", "department")]
    reports = [
        Report("corr", "a", 2021, [("/a/gzb.html", "2022-01-01 00:00", "2022-01-01 00:00")], correction=True,
               facts=[("requests", "received_new", "total", 9), ("reviews", "reconsideration", "total", 1)]),
        Report("v1", "a", 2021, [("/a/r.html", "2022-01-02 00:00", "2022-01-02 00:00")],
               facts=[("requests", "received_new", "total", 7), ("requests", "granted", "total", 3)]),
        Report("v2", "a", 2021, [("/a/r.html", "2022-02-01 00:00", "2022-03-01 00:00")],
               facts=[("requests", "received_new", "total", 8), ("requests", "granted", "total", 3)]),
    ]
    db = build(tmp_path, agencies, reports)
    rows = query(db, """select old_report_id, new_report_id, fact_table, fact_key, old_value, new_value, change,
                               new_is_correction
                        from fct_report_changes order by new_first_seen_at, fact_key""")
    v1, v2, corr = (r.report_id for r in reports[1:] + reports[:1])
    assert rows == [
        (v2, corr, "requests", "requests/granted/total", 3.0, None, "removed", True),
        (v2, corr, "requests", "requests/received_new/total", 8.0, 9.0, "changed", True),
        (v2, corr, "reviews", "reviews/reconsideration/total", None, 1.0, "added", True),
        (v1, v2, "requests", "requests/received_new/total", 7.0, 8.0, "changed", False),
    ]
    assert query(db, "select report_id, superseded_by is null from dim_report order by report_id") == sorted(
        [(corr, True), (v1, False), (v2, False)])


def test_a_page_edited_back_serves_its_first_content_again(tmp_path):
    agencies = [Agency("a", "青禾县农业农村局", "department")]
    first = Report("first", "a", 2021, [("/a/r.html", "2022-01-02 00:00", "2022-03-01 00:00")],
                   facts=[("requests", "received_new", "total", 7)])
    edit = Report("edit", "a", 2021, [("/a/r.html", "2022-02-01 00:00", "2022-02-01 00:00")],
                  facts=[("requests", "received_new", "total", 8)])
    db = build(tmp_path, agencies, [first, edit])
    assert query(db, "select report_id, replaced_at_url, superseded_by is null from dim_report order by first_seen_at") == [
        (first.report_id, False, True), (edit.report_id, True, False)]
    assert query(db, "select requests_received from mart_agency_year") == [(7.0,)]
