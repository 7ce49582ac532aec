"""mart_reconciliation: a government's figures against the sum of its departments' (children in
dim_agency), per year and comparable measure: match, mismatch, incomplete, no parent value."""
from __future__ import annotations

import pytest

from tests.hand_warehouse import Agency, Report, as_dicts, build, query
from warehouse.stages.build import mart_measures

pytestmark = pytest.mark.slow   # a DuckDB build

AGENCIES = [
    Agency("g", "岚州市枫林县人民政府", "county"),
    Agency("d1", "枫林县教育局", "department", parent="g"),
    Agency("d2", "枫林县财政局", "department", parent="g"),
    Agency("d3", "枫林县数据局", "department", parent="g", established=2023),
    Agency("lone", "松溪区某中心", "department", region_code="580102"),   # no government of its region: no parent
]


def report(agency: str, year: int, received: float | None, granted: float | None = None) -> Report:
    facts = [("requests", "received_new", "total", received)] if received is not None else []
    facts += [("requests", "granted", "total", granted)] if granted is not None else []
    seen = f"{year + 1}-04-05 00:00"
    return Report(f"{agency}-{year}", agency, year, [(f"/{agency}/{year}.html", seen, seen)],
                  published=f"{year + 1}-01-20", source="page_field", facts=facts)


REPORTS = [
    report("g", 2021, 10, 5), report("d1", 2021, 6, 3), report("d2", 2021, 4, 2),
    report("g", 2022, 10, 5), report("d1", 2022, 6, 3), report("d2", 2022, 5),
    report("g", 2023, 10), report("d1", 2023, 6), report("d2", 2023, 4),   # d3 (set up in 2023) did not report
    report("lone", 2022, 3),
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return build(tmp_path_factory.mktemp("reconciliation"), AGENCIES, REPORTS)


def rows(db, measure: str) -> dict[int, tuple]:
    return {r["report_year"]: (r["parent_value"], r["children_sum"], r["children_reporting"], r["children_expected"],
                               r["difference"], r["status"])
            for r in as_dicts(db, "select * from mart_reconciliation where parent_agency_id = 'g' and measure = ?",
                              [measure])}


def test_received_requests_of_the_government_against_its_departments(warehouse):
    assert rows(warehouse, "requests_received") == {
        2021: (10.0, 10.0, 2, 2, 0.0, "match"),
        2022: (10.0, 11.0, 2, 2, -1.0, "mismatch"),
        2023: (10.0, 10.0, 2, 3, 0.0, "incomplete"),   # d3 was expected and did not report
    }


def test_a_measure_some_children_leave_blank_is_incomplete(warehouse):
    assert rows(warehouse, "granted_full") == {
        2021: (5.0, 5.0, 2, 2, 0.0, "match"),
        2022: (5.0, 3.0, 1, 2, 2.0, "incomplete"),     # d2 states no such figure
        2023: (None, None, 0, 3, None, "no_parent_value"),   # nobody states it
    }


def test_one_row_per_parent_year_and_measure_of_the_mart(warehouse):
    measures = set(mart_measures())
    assert query(warehouse, "select distinct parent_agency_id from mart_reconciliation") == [("g",)]
    assert {m for (m,) in query(warehouse, "select distinct measure from mart_reconciliation")} == measures
    assert query(warehouse, "select count(*) from mart_reconciliation") == [(3 * len(measures),)]
    assert query(warehouse, "select parent_name from mart_reconciliation limit 1") == [("岚州市枫林县人民政府",)]
