"""Crosswalk rows the table eras share (the same table 三 and 四 in 2019 and 2021)."""
from __future__ import annotations

WITHHELD = ("withheld_state_secret", "withheld_prohibited_by_law", "withheld_security_stability",
            "withheld_third_party", "withheld_internal_affairs", "withheld_process_information",
            "withheld_enforcement_files", "withheld_query_matter")
UNAVAILABLE = ("unavailable_not_held", "unavailable_needs_creation", "unavailable_unclear")
NOT_HANDLED = ("not_handled_petition", "not_handled_repeated", "not_handled_publication",
               "not_handled_excessive", "not_handled_confirmation")
RESULTS = ("total", "upheld", "corrected", "other", "pending")
# The identities of tables 三 and 四 (warehouse.checks.CHECK_FAMILIES keys).
TABLE_CHECKS = ("requests_balance", "requests_outcomes", "requests_applicant_columns", "reviews_totals")


def requests_rows(other_handling_rows: tuple[str, ...]) -> tuple[tuple[str, str, str, str], ...]:
    """Table 三 (total column) of either table era."""
    rows = [("requests_received", "received_new"), ("requests_carried_over", "carried_over"),
            ("granted_full", "granted"), ("granted_part", "partially_granted")]
    rows += [("withheld", r) for r in WITHHELD] + [("unavailable", r) for r in UNAVAILABLE]
    rows += [("not_handled", r) for r in NOT_HANDLED] + [("other_handling", r) for r in other_handling_rows]
    rows += [("handled_total", "handled_total"), ("requests_carried_forward", "carried_forward")]
    return tuple((measure, "requests", row, "total") for measure, row in rows)


def reviews_rows(lawsuits: tuple[str, ...]) -> tuple[tuple[str, str, str, str], ...]:
    """Table 四: reconsiderations, and lawsuits = the sum of `lawsuits` proceedings, by result."""
    rows = []
    for result in RESULTS:
        rows.append((f"reconsiderations_{result}", "reviews", "reconsideration", result))
        rows += [(f"lawsuits_{result}", "reviews", proceeding, result) for proceeding in lawsuits]
    return tuple(rows)
