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


# A report of no known era: the identities every layout shares.
_ERA_FREE_FAMILIES = ("reviews_totals",)


def evaluate_checks(facts: list[Fact], era: str | None) -> list[CheckResult]:
    """Evaluate every identity of the era's check families (warehouse.eras) whose figures the report states."""
    idx = _index(facts)
    era_def = era_named(era) if era else None
    families = era_def.check_families if era_def else _ERA_FREE_FAMILIES
    results: list[CheckResult] = []
    for col in ("total",) + APPLICANT_ADDENDS:
        if "requests_balance" in families:
            results += _requests_balance(idx, col)
        if "requests_outcomes" in families:
            results += _requests_outcomes(idx, col, era_def.other_handling_rows)
    if "requests_applicant_columns" in families:
        results += _requests_applicant_columns(idx)
    if "reviews_totals" in families:
        results += _reviews_totals(idx)
    return results


def _requests_balance(idx: dict, col: str) -> list[CheckResult]:
    """Table 三: received_new + carried_over = handled_total + carried_forward."""
    lhs = [idx.get(("requests", row, col)) for row in ("received_new", "carried_over")]
    rhs = [idx.get(("requests", row, col)) for row in ("handled_total", "carried_forward")]
    if None in lhs or None in rhs:
        return []
    return [CheckResult(f"requests_balance_{col}", abs(sum(lhs) - sum(rhs)) < _TOL, sum(lhs), sum(rhs),
                        "received_new + carried_over = handled_total + carried_forward")]


def _requests_outcomes(idx: dict, col: str, other_handling_rows: tuple[str, ...]) -> list[CheckResult]:
    """Table 三: handled_total = the outcome rows, the era's 其他处理 rows among them."""
    handled_rows = (["granted", "partially_granted"] + list(WITHHELD_ROWS) + list(UNAVAILABLE_ROWS)
                    + list(NOT_HANDLED_ROWS) + list(other_handling_rows))
    stated_rows = {k[1] for k in idx if k[0] == "requests"}
    # not evaluable in a column where a row the table states was left unstated
    # (e.g. a blank 总计 beside non-zero applicant cells)
    if any(row in stated_rows and (("requests", row, col) not in idx) for row in handled_rows):
        return []
    r = _sum_check(f"requests_outcomes_{col}", idx.get(("requests", "handled_total", col)),
                   [idx.get(("requests", row, col)) for row in handled_rows],
                   "handled_total = granted + partially_granted + withheld_* + unavailable_* + not_handled_* + other")
    return [r] if r else []


def _requests_applicant_columns(idx: dict) -> list[CheckResult]:
    """Table 三, per row: total = the six applicant columns."""
    failed_rows = []
    checked = 0
    for row in sorted({k[1] for k in idx if k[0] == "requests"}):
        total = idx.get(("requests", row, "total"))
        parts = [idx.get(("requests", row, a)) for a in APPLICANT_ADDENDS]
        # Only rows whose every cell was read: a cell the parser could not decode is no zero.
        if total is None or any(p is None for p in parts):
            continue
        checked += 1
        if abs(sum(parts) - total) > _TOL:
            failed_rows.append(row)
    if not checked:
        return []
    return [CheckResult("requests_applicant_columns", not failed_rows, None, None,
                        "total = sum of applicant columns" + (f"; fails on rows {', '.join(failed_rows)}" if failed_rows else ""))]


def _reviews_totals(idx: dict) -> list[CheckResult]:
    """Table 四 (and era P where the split is stated): total = upheld + corrected + other + pending."""
    results = []
    for proc in ("reconsideration", "litigation_direct", "litigation_after_reconsideration", "litigation"):
        r = _sum_check(f"reviews_{proc}_total", idx.get(("reviews", proc, "total")),
                       [idx.get(("reviews", proc, res)) for res in ("upheld", "corrected", "other", "pending")],
                       "total = upheld + corrected + other + pending")
        if r:
            results.append(r)
    return results
