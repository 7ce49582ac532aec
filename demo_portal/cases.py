"""Issue 15's cases in the answer key: timeliness, changed reports, reconciliation.

Pure functions over the generator's planned reports (no I/O, no randomness): the answer key
lists what a correct warehouse must say.

- `timeliness_entries`: one entry per agency and report year the body existed in
  (agencies.py: established .. abolished - 1), with the deadline of the regulation in force
  (report years <= 2018: 31 March of the next year for every body; 2019 on: departments
  31 January, governments and the other levels 31 March), the first publication's date and where
  it is stated (`page_field`, `url_path`; None when nothing states it), and the status
  on_time | late | missing | date_unknown.
- `fact_changes`: the figures that differ between two versions of one report.
- `reconciliation_entries`: a parent's measure (the mart's crosswalk) against the sum of its
  children's, per report year.
"""
from __future__ import annotations

from typing import Iterable

DATE_SOURCES = ("page_field", "signed_date", "url_path", "first_crawl")
STATUSES = ("on_time", "late", "missing", "date_unknown")
DIMS = {"requests": ("row", "applicant"), "reviews": ("proceeding", "result"), "proactive": ("item_type", "measure")}


def deadline(report_year: int, level: str) -> str:
    """The publication deadline (ISO date) of a report year for a body of this level."""
    if report_year >= 2019 and level == "department":
        return f"{report_year + 1}-01-31"
    return f"{report_year + 1}-03-31"


def timeliness_status(published: str | None, due: str) -> str:
    if published is None:
        return "date_unknown"
    return "on_time" if published <= due else "late"


def timeliness_entry(agency, year: int, published: str | None, date_source: str | None,
                     reported: bool) -> dict:
    due = deadline(year, agency.level)
    status = timeliness_status(published, due) if reported else "missing"
    return {"agency_id": agency.agency_id, "report_year": year, "deadline": due, "status": status,
            "published_date": published if reported else None, "date_source": date_source if reported else None}


def fact_key(fact: dict) -> str:
    """`table/dim1/dim2`, e.g. requests/received_new/total."""
    a, b = DIMS[fact["table"]]
    return f"{fact['table']}/{fact[a]}/{fact[b]}"


def fact_changes(old: Iterable[dict], new: Iterable[dict]) -> list[dict]:
    """Each figure that differs between two versions (fact JSON lists), ordered by key."""
    before = {fact_key(f): f["value"] for f in old}
    after = {fact_key(f): f["value"] for f in new}
    out = []
    for key in sorted(before.keys() | after.keys()):
        a, b = before.get(key), after.get(key)
        if a == b:
            continue
        change = "added" if a is None else "removed" if b is None else "changed"
        table, d1, d2 = key.split("/")
        out.append({"fact_table": table, "fact_key": key, DIMS[table][0]: d1, DIMS[table][1]: d2,
                    "old_value": a, "new_value": b, "change": change})
    return out


def measures_of(facts: Iterable[dict], era: str) -> dict[str, float]:
    """The mart's measures a report states (sum of its facts over the era's crosswalk rows)."""
    from warehouse.eras import crosswalk_rows

    rows: dict[tuple[str, str, str], list[str]] = {}
    for row in crosswalk_rows():
        if row.era == era:
            rows.setdefault((row.fact_table, row.dim_1, row.dim_2), []).append(row.measure)
    out: dict[str, float] = {}
    for f in facts:
        a, b = DIMS[f["table"]]
        for measure in rows.get((f["table"], f[a], f[b]), ()):
            out[measure] = out.get(measure, 0) + f["value"]
    return out


def reconciliation_entries(parent_id: str, years: Iterable[int], reports: dict[tuple[str, int], tuple[str, list]],
                           children: list[str], expected: dict[str, set[int]]) -> list[dict]:
    """reports: (agency_id, year) -> (era, fact JSON list) of the current version; expected: agency -> years.
    status: match | mismatch | incomplete (an expected child did not report) | no_parent_value."""
    out = []
    for year in years:
        if (parent_id, year) not in reports:
            continue
        era, facts = reports[(parent_id, year)]
        parent = measures_of(facts, era)
        kids = [c for c in children if year in expected.get(c, set())]
        reporting = [measures_of(reports[(c, year)][1], reports[(c, year)][0]) for c in kids if (c, year) in reports]
        for measure in sorted(set(parent) | {m for r in reporting for m in r}):
            values = [r[measure] for r in reporting if measure in r]
            children_sum = sum(values) if values else None
            value = parent.get(measure)
            if value is None:
                status = "no_parent_value"
            elif len(values) < len(kids):
                status = "incomplete"
            else:
                status = "match" if value == children_sum else "mismatch"
            out.append({"parent_agency_id": parent_id, "report_year": year, "measure": measure,
                        "parent_value": value, "children_sum": children_sum,
                        "children_reporting": len(values), "children_expected": len(kids), "status": status})
    return out
