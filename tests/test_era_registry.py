"""The report eras behind one registry (warehouse.eras): detection, the crosswalk of the mart, and
proof that a new layout is one module: a toy era registered from this test is detected, read by the
table reader, checked, and carried into the crosswalk, with nothing else changed."""
import re
from pathlib import Path

import pytest

from warehouse import eras, metrics
from warehouse.checks import CHECK_FAMILIES, evaluate_checks
from warehouse.eras import TABLES, CrosswalkRow, Era, crosswalk_rows, era_by_words, era_names, table_era_for_year
from warehouse.eras.table_2021 import ERA as TABLE_2021
from warehouse.facts import Fact
from warehouse.parse import parse_file

FIXTURES = Path(__file__).parent / "fixtures" / "eras"


@pytest.fixture
def toy_era():
    """An invented 2030 layout: the 2021 tables announced by another notice, two rows of table 三
    worded anew (受理 for 新收, 区分处理后提供 for 部分公开), amounts in 元."""
    era = eras.register(Era(
        name="table_2030", label="Toy tables (2030)", layout=TABLES, first_year=2030,
        notices=(re.compile(r"2030[〕\]]?\s*12\s*号"),),
        other_handling_rows=TABLE_2021.other_handling_rows, amount_unit="元", check_families=TABLE_2021.check_families,
        request_row_labels=(("received_new", r"^本年受理"), ("partially_granted", r"区分处理后提供")),
        crosswalk=TABLE_2021.crosswalk))
    yield era
    eras.unregister(era.name)


def test_the_regulations_eras_in_order():
    assert era_names() == ("prose", "table_2019", "table_2021")
    assert metrics.ERAS == era_names() and metrics.TABLE_ERAS == ("table_2019", "table_2021")
    assert table_era_for_year(2019).name == table_era_for_year(2020).name == "table_2019"
    assert table_era_for_year(2024).name == table_era_for_year(None).name == "table_2021"


@pytest.mark.parametrize("text, era", [
    ("按照国办公开办函〔2021〕30号格式。规范性文件本年制发件数3", "table_2021"),
    ("规章本年新制作数量0本年新公开数量0对外公开总数量2", "table_2019"),
    ("国办公开办函〔201960号", "table_2019"),
    ("本年制发件数与对外公开总数量", "table_2021"),   # both layouts' words: the newer one
    ("全年主动公开政府信息120条", None),
])
def test_each_era_recognised_by_its_own_words(text, era):
    found = era_by_words(text)
    assert (found.name if found else None) == era


def test_crosswalk_rows_name_known_keys_and_mart_columns():
    rows = crosswalk_rows()
    assert len(rows) == 108
    mart = {k.key for k in metrics.MART_COLUMNS}
    for row in rows:
        assert row.measure in mart, row
        assert row.era in era_names()
        assert row.fact_table in metrics.TABLES
    for dimension in ("row", "proceeding", "item_type"):
        keys = {k.key for k in metrics.DIMENSIONS[dimension]}
        assert all(r.dim_1 in keys for r in rows if r.fact_table == {"row": "requests", "proceeding": "reviews",
                                                                       "item_type": "proactive"}[dimension])
    assert CrosswalkRow("normative_documents_in_force", "table_2019", "proactive", "normative_documents",
                        "published_total") in rows
    assert CrosswalkRow("lawsuits_total", "prose", "reviews", "litigation", "total") in rows
    assert sum(r.measure == "other_handling" and r.era == "table_2021" for r in rows) == 3
    assert len(set(rows)) == len(rows)


def test_each_era_names_check_families_and_rows_that_exist():
    for era in eras.eras():
        assert era.check_families and set(era.check_families) <= set(CHECK_FAMILIES), era.name
        assert set(era.other_handling_rows) <= set(metrics.REQUEST_ROW_KEYS), era.name
        assert {key for key, _ in era.request_row_labels} <= set(metrics.REQUEST_ROW_KEYS), era.name
    stated = {("requests", "received_new"): 5, ("requests", "carried_over"): 0, ("requests", "handled_total"): 4,
              ("requests", "carried_forward"): 1, ("reviews", "litigation"): 2}
    dims = {"requests": ("row", "applicant"), "reviews": ("proceeding", "result")}
    facts = [Fact(table, dict(zip(dims[table], (key, "total"))), value) for (table, key), value in stated.items()]
    facts.append(Fact("reviews", {"proceeding": "litigation", "result": "upheld"}, 2))
    names = lambda era: {c.check_name for c in evaluate_checks(facts, era)}  # noqa: E731
    assert names("table_2019") == names("table_2021") == {"requests_balance_total", "reviews_litigation_total"}
    assert names("prose") == names(None) == {"reviews_litigation_total"}   # era P has no table 三


def test_a_toy_era_is_one_module(toy_era):
    report = parse_file(FIXTURES / "toy_2030.html")
    assert report.era == "table_2030" and report.report_year == 2030
    facts = {f.key: f for f in report.facts}
    assert facts[("requests", "received_new", "total")].value == 17      # the era's own row wordings
    assert facts[("requests", "partially_granted", "total")].value == 2
    assert facts[("requests", "other_other", "total")].value == 1        # the era's own 其他处理 rows
    assert facts[("reviews", "reconsideration", "total")].value == 2
    fee = facts[("proactive", "administrative_fees", "amount")]
    assert (fee.value, fee.unit) == (5600, "元")                          # the era's own default unit
    checks = {c.check_name: c.passed for c in report.checks}
    assert checks["requests_balance_total"] and checks["requests_outcomes_total"]
    assert checks["requests_applicant_columns"] and checks["reviews_reconsideration_total"]
    toy_rows = [r for r in crosswalk_rows() if r.era == "table_2030"]
    assert len(toy_rows) == len(TABLE_2021.crosswalk)
    assert "table_2030" in era_names()


def test_toy_era_leaves_the_registry_as_it_was():
    assert "table_2030" not in era_names()
    assert len(crosswalk_rows()) == 108
