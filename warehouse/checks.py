"""The reports' own accounting identities (REPORT_FORMATS.md), evaluated per report.

A failed check flags the report; values are never repaired.
"""
from __future__ import annotations

from warehouse.facts import CheckResult, Fact
from warehouse.eras import era_named
from warehouse.metrics import APPLICANT_ADDENDS, NOT_HANDLED_ROWS, UNAVAILABLE_ROWS, WITHHELD_ROWS

_TOL = 1e-6


def _index(facts: list[Fact]) -> dict[tuple[str, str, str], float]:
    return {f.key: float(f.value) for f in facts}


def _sum_check(name: str, expected: float | None, addends: list[float | None], detail: str) -> CheckResult | None:
    """expected == sum(addends); skipped when the total or every addend is unstated."""
    stated = [a for a in addends if a is not None]
    if expected is None or not stated:
        return None
    actual = sum(stated)
    return CheckResult(name, abs(actual - expected) < _TOL, expected, actual, detail)


STATEMENTS_AGREE = "statements_agree"

# Every check family and the prefix of its check names in fct_check_results (Dagster asset
# checks are made from this). requests_carry_over_across_years is evaluated in SQL, across reports.
CHECK_FAMILIES = {
    "requests_balance": "requests_balance_",
    "requests_outcomes": "requests_outcomes_",
    "requests_applicant_columns": "requests_applicant_columns",
    "reviews_totals": "reviews_",
    "requests_carry_over_across_years": "requests_carry_over_across_years",
    STATEMENTS_AGREE: STATEMENTS_AGREE,
}


def statements_agree(places: dict[str, list[Fact]]) -> CheckResult | None:
    """One figure stated in two places of a report with different numbers.

    `places` maps where a figure was stated ('table', 'text', …), in the order the parser
    trusts them, to the facts read there. Each place's first fact of a key counts; the
    first place's value is the one the report keeps. Approximate figures ('近百条') never
    conflict. None when no figure is stated twice."""
    firsts = [(place, {f.key: f for f in reversed(facts)}) for place, facts in places.items()]
    stated_twice = 0
    conflicts = []
    for i, (place, facts) in enumerate(firsts):
        for key, fact in facts.items():
            if any(key in earlier for _, earlier in firsts[:i]):
                continue  # compared where it was first stated
            others = [(p, f[key]) for p, f in firsts[i + 1:] if key in f]
            stated_twice += bool(others)
            conflicts += [(key, place, fact, p, other) for p, other in others
                          if not (fact.approximate or other.approximate)
                          and abs(float(fact.value) - float(other.value)) > _TOL]
    if not stated_twice:
        return None
    detail = "; ".join(f"{'/'.join(key[1:])}: {fact.value} ({place} {fact.source}) vs {other.value} ({p} {other.source})"
                       for key, place, fact, p, other in conflicts)
    first = conflicts[0] if conflicts else None
    return CheckResult(STATEMENTS_AGREE, not conflicts,
                       float(first[2].value) if first else None, float(first[4].value) if first else None,
                       detail or f"{stated_twice} figure(s) stated in two places agree")


def evaluate_checks(facts: list[Fact], era: str | None) -> list[CheckResult]:
    """Evaluate every identity whose figures the report states."""
    idx = _index(facts)
    req = lambda row, col: idx.get(("requests", row, col))  # noqa: E731
    rev = lambda proc, res: idx.get(("reviews", proc, res))  # noqa: E731
    results: list[CheckResult] = []
    applicants = ["total"] + list(APPLICANT_ADDENDS)
    era_def = era_named(era) if era else None
    if era_def is not None and era_def.has_tables:   # table 三 and its identities
        handled_rows = (["granted", "partially_granted"] + list(WITHHELD_ROWS) + list(UNAVAILABLE_ROWS)
                        + list(NOT_HANDLED_ROWS) + list(era_def.other_handling_rows))
        stated_rows = {k[1] for k in idx if k[0] == "requests"}
        for col in applicants:
            suffix = "total" if col == "total" else col
            # 1. received_new + carried_over = handled_total + carried_forward
            lhs = [req("received_new", col), req("carried_over", col)]
            rhs = [req("handled_total", col), req("carried_forward", col)]
            if None not in lhs and None not in rhs:
                results.append(CheckResult(
                    f"requests_balance_{suffix}", abs(sum(lhs) - sum(rhs)) < _TOL, sum(lhs), sum(rhs),
                    "received_new + carried_over = handled_total + carried_forward"))
            # 3. handled_total = sum of outcome rows; not evaluable in a column where a row the
            # table states was left unstated (e.g. a blank 总计 beside non-zero applicant cells)
            if any(row in stated_rows and req(row, col) is None for row in handled_rows):
                continue
            r = _sum_check(f"requests_outcomes_{suffix}", req("handled_total", col),
                           [req(row, col) for row in handled_rows],
                           "handled_total = granted + partially_granted + withheld_* + unavailable_* + not_handled_* + other")
            if r:
                results.append(r)
        # 2. per row: total = the six applicant columns
        failed_rows = []
        checked = 0
        for row in sorted({k[1] for k in idx if k[0] == "requests"}):
            total = req(row, "total")
            parts = [req(row, a) for a in APPLICANT_ADDENDS]
            # Only rows whose every cell was read: a cell the parser could not decode is no zero.
            if total is None or any(p is None for p in parts):
                continue
            checked += 1
            if abs(sum(p for p in parts if p is not None) - total) > _TOL:
                failed_rows.append(row)
        if checked:
            results.append(CheckResult(
                "requests_applicant_columns", not failed_rows, None, None,
                "total = sum of applicant columns" + (f"; fails on rows {', '.join(failed_rows)}" if failed_rows else "")))
    # Table 四 (and era P where the split is stated): total = upheld + corrected + other + pending
    for proc in ("reconsideration", "litigation_direct", "litigation_after_reconsideration", "litigation"):
        r = _sum_check(f"reviews_{proc}_total", rev(proc, "total"),
                       [rev(proc, res) for res in ("upheld", "corrected", "other", "pending")],
                       "total = upheld + corrected + other + pending")
        if r:
            results.append(r)
    return results

