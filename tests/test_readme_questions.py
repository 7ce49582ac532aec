"""Every analyst question of the README runs on the demo warehouse and answers something; questions
11-13 (timeliness, report changes, reconciliation) also give their exact answers on a hand-made warehouse."""
import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest

from demo_portal.agencies import AGENCIES
from tests.scorecard_fixture import build_scorecard_warehouse

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NAMES = {a.agency_id: a.current_name for a in AGENCIES}
REGIONS = {a.agency_id: a.region_code for a in AGENCIES}
QUESTIONS = 13
TIMELINESS_STATUSES = {"on_time", "late", "missing", "date_unknown"}


def readme_queries() -> list[str]:
    """The SQL of every question, in order, from the README's section `## <N> analyst questions` on."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    heading = re.search(r"^## \w+ analyst questions$", text, flags=re.M)
    assert heading, "the README has no '## … analyst questions' section"
    return re.findall(r"```sql\n(.*?)```", text[heading.end():], flags=re.S)


def test_readme_has_thirteen_questions():
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Thirteen analyst questions" in text
    assert len(readme_queries()) == QUESTIONS
    numbered = re.findall(r"^(\d+)\. .+?\n```sql\n", text, flags=re.M)
    assert numbered == [str(n) for n in range(1, QUESTIONS + 1)]


def answers_on(db: Path, numbers) -> dict[int, list[tuple]]:
    queries = readme_queries()
    with duckdb.connect(str(db), read_only=True) as con:
        return {n: con.execute(queries[n - 1]).fetchall() for n in numbers}


def test_questions_11_to_13_answer_exactly_on_a_hand_made_warehouse(tmp_path):
    db = build_scorecard_warehouse(tmp_path / "warehouse.duckdb")
    answers = answers_on(db, (11, 12, 13))
    date = dt.date.fromisoformat
    # 11: in 岚州市 (5801) the finance bureau skipped 2020 and was 30 days past 31 January in 2021; the
    # district skipped 2021. 青川省 (58) bodies outside 5801 and 白河省 (59) are not listed.
    assert answers[11] == [
        (2020, "岚州市财政局", "department", "missing", date("2021-01-31"), None, None, None),
        (2021, "岚州市财政局", "department", "late", date("2022-01-31"), date("2022-03-02"), "url_path", 30),
        (2021, "岚州市松溪区人民政府", "county", "missing", date("2022-03-31"), None, None, None),
    ]
    # 12: two figures edited in place in 岚州市's 2020 report, one added by the education department's 更正版
    assert [row[:7] for row in answers[12]] == [
        ("岚州市人民政府", 2020, "edited in place", "requests/received_new/total", "changed", 120.0, 128.0),
        ("岚州市人民政府", 2020, "edited in place", "reviews/reconsideration/corrected", "changed", 1.0, 2.0),
        ("青川省教育厅", 2020, "correction", "proactive/normative_documents/newly_made", "added", None, 4.0),
    ]
    assert answers[12][2][7:9] == (dt.datetime(2021, 2, 10, 9), dt.datetime(2021, 4, 2, 9))
    # 13: only the mismatches (not the matching, incomplete or parent-less rows), largest difference first
    assert answers[13] == [
        ("青川省人民政府", 2020, "requests_received", 310.0, 290.0, 20.0, 2, 2),
        ("岚州市人民政府", 2021, "lawsuits_total", 5.0, 3.0, 2.0, 1, 1),
    ]


@pytest.mark.slow  # the demo pipeline
def test_every_readme_question_runs_on_the_demo_warehouse(demo_run):
    paths, key, _ = demo_run
    answers = answers_on(paths.database, range(1, QUESTIONS + 1))
    # the demo portal plants what questions 2, 7, 8 and 10 look for
    assert answers[2] and answers[8] and answers[7]
    assert {row[0] for row in answers[10]} == {"renamed", "corrected"}
    assert all(answers[n] for n in (1, 3, 4, 6, 9)), {n: len(a) for n, a in answers.items()}
    # question 4 counts one row per report year, 2014–2024
    assert [row[0] for row in answers[4]] == list(range(2014, 2025))

    # 11: late or missing reports of 岚州市's bodies (枫林县人社局 has no 2020 report in the demo)
    assert answers[11], "no late or missing report in 岚州市"
    for year, name, level, status, deadline, published, source, days_late in answers[11]:
        assert status in {"late", "missing"} and status in TIMELINESS_STATUSES
        assert deadline.year == year + 1 and (deadline.month, deadline.day) in {(1, 31), (3, 31)}
        if status == "missing":
            assert published is None and days_late is None, (name, year)
        else:
            assert published > deadline and days_late == (published - deadline).days > 0, (name, year)
            assert source in {"page_field", "signed_date", "url_path"}, (name, year, source)
    assert any(row[1] == "枫林县人力资源和社会保障局" and row[0] == 2020 and row[3] == "missing" for row in answers[11])
    # every late or missing report the answer key plants in 岚州市 is listed (and nothing on time)
    planted = {(NAMES[t["agency_id"]], t["report_year"], t["status"]) for t in key["timeliness"]
               if t["status"] in ("late", "missing") and REGIONS[t["agency_id"]].startswith("5801")}
    assert planted and planted <= {(row[1], row[0], row[3]) for row in answers[11]}, planted

    # 12: figures changed between versions of a report: the 更正版 of the development commission's 2021
    # report, and (once the demo serves an edited page on its second crawl) a report edited in place
    assert answers[12], "no report changed between versions in the demo"
    for name, year, how, fact_key, change, old, new, old_seen, new_seen, url in answers[12]:
        assert change in {"changed", "added", "removed"} and how in {"correction", "edited in place"}
        assert old != new and (old is None) == (change == "added") and (new is None) == (change == "removed")
        assert fact_key and url and old_seen and new_seen, (name, year, fact_key)
        if how == "edited in place":            # the same URL served other content on a later crawl
            assert new_seen > old_seen, (name, year, fact_key)
    assert {row[2] for row in answers[12]} == {"correction", "edited in place"}
    assert any(row[0] == "青川省发展和改革委员会" and row[1] == 2021 and row[2] == "correction" for row in answers[12])
    # the figures the answer key changes between versions, with their old and new values
    changed = {(NAMES[c["agency_id"]], c["report_year"], number(c["old_value"]), number(c["new_value"]))
               for c in key["changes"]}
    assert changed and changed <= {(row[0], row[1], row[5], row[6]) for row in answers[12]}, changed

    # 13: governments whose summary differs from their departments' sum, with the difference it states
    assert answers[13], "no government's summary mismatches its departments in the demo"
    for parent, year, measure, value, children_sum, difference, reporting, expected in answers[13]:
        assert difference == value - children_sum != 0, (parent, year, measure)
        assert reporting > 0 and expected > 0, (parent, year, measure)
    # the answer key's government whose summary mismatches is listed; the one whose summary matches is not
    listed = {(row[0], row[1], row[2]): (row[3], row[4]) for row in answers[13]}
    for r in key["reconciliation"]:
        found = (NAMES[r["parent_agency_id"]], r["report_year"], r["measure"])
        if r["status"] == "mismatch":   # (a total over fewer children than expected is 'incomplete')
            assert listed.get(found) == (number(r["parent_value"]), number(r["children_sum"])), (r, listed.get(found))
        else:
            assert found not in listed, r
    assert any(number(r["parent_value"]) == number(r["children_sum"]) for r in key["reconciliation"])
    assert any(number(r["parent_value"]) != number(r["children_sum"]) for r in key["reconciliation"])


def number(value) -> float | None:
    return None if value is None else float(value)
