"""Compare parsed figures with the answer key: used by the tests and `python -m demo_portal verify`."""
from __future__ import annotations

from pathlib import Path

DIMS = {"requests": ("row", "applicant"), "reviews": ("proceeding", "result"), "proactive": ("item_type", "measure")}


def fact_key(fact: dict) -> tuple[str, str, str]:
    d1, d2 = DIMS[fact["table"]]
    return fact["table"], fact[d1], fact[d2]


def expected_facts(report: dict) -> dict[tuple[str, str, str], float]:
    return {fact_key(f): float(f["value"]) for f in report["facts"]}


def diff_facts(expected: dict, got: dict) -> dict:
    """{'missing_or_wrong': {key: (want, got)}, 'extra': {key: got}}, empty lists when equal."""
    wrong = {k: (v, got.get(k)) for k, v in expected.items() if got.get(k) != v}
    extra = {k: v for k, v in got.items() if k not in expected}
    return {"missing_or_wrong": wrong, "extra": extra} if wrong or extra else {}


def report_file(portal_dir: Path, report: dict) -> Path:
    """The served file of a report's first URL."""
    relative = report["urls"][0].split("}", 1)[-1].lstrip("/")
    return portal_dir / "site" / relative


def verify_portal_parse(portal_dir: Path, key: dict) -> dict[str, dict]:
    """Parse every report file of the portal directly (no crawl); returns the differences by file."""
    from warehouse.parse import parse_file

    problems = {}
    for report in key["reports"]:
        path = report_file(portal_dir, report)
        parsed = parse_file(path)
        got = {fact_key(f): float(f["value"]) for f in (x.to_json() for x in parsed.facts)}
        diff = diff_facts(expected_facts(report), got)
        if parsed.report_year != report["report_year"]:
            diff["report_year"] = (report["report_year"], parsed.report_year)
        if parsed.era != report["era"]:
            diff["era"] = (report["era"], parsed.era)
        if diff:
            problems[str(path.relative_to(portal_dir))] = diff
    return problems
