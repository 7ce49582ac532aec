"""A blank cell in a stated table is the report's zero, except a blank 总计 beside non-zero
applicant cells, or blank applicant cells beside a non-zero 总计: those are not stated."""
from warehouse.checks import evaluate_checks
from warehouse.facts import Fact
from warehouse.parse.numbers import parse_cell_number
from warehouse.parse.tables import unstated_blank_cells

COLUMNS = {2: "natural_person", 3: "commercial_enterprise", 4: "total"}


def blanks(row):
    return unstated_blank_cells(row, COLUMNS, {c: parse_cell_number(row[c]) for c in COLUMNS})


def test_blank_total_beside_values_is_not_a_zero():
    assert blanks(["（一）予以公开", "", "7", "2", "\xa0"]) == [4]


def test_blank_applicants_beside_a_total_are_not_zeros():
    assert blanks(["（一）予以公开", "", "", " ", "9"]) == [2, 3]


def test_blanks_in_an_empty_or_complete_row_are_zeros():
    assert blanks(["（二）部分公开", "", "", "", ""]) == []
    assert blanks(["（二）部分公开", "", "3", "", "3"]) == []


def test_outcome_check_is_not_evaluated_when_a_stated_row_lacks_its_total():
    facts = [Fact("requests", {"row": "handled_total", "applicant": "total"}, 10),
             Fact("requests", {"row": "granted", "applicant": "natural_person"}, 10),
             Fact("requests", {"row": "partially_granted", "applicant": "total"}, 0)]
    names = {c.check_name for c in evaluate_checks(facts, "table_2021")}
    assert "requests_outcomes_total" not in names
