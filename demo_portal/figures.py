"""Random figures that satisfy every identity of REPORT_FORMATS.md.

Figures are plain dicts keyed the way the warehouse keys facts:
requests[(row, applicant)], reviews[(proceeding, result)],
proactive[(item_type, measure)] -> (value, unit|None). Renderers print them,
the answer key lists them, so page and key cannot drift apart.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from warehouse.eras import era_named
from warehouse.metrics import APPLICANT_ADDENDS, NOT_HANDLED_ROWS, UNAVAILABLE_ROWS, WITHHELD_ROWS

from demo_portal.agencies import Agency

OUTCOME_WEIGHTS = {
    "granted": 40, "partially_granted": 8,
    **{r: 1 for r in WITHHELD_ROWS}, "withheld_third_party": 3, "withheld_process_information": 3,
    "unavailable_not_held": 22, "unavailable_needs_creation": 4, "unavailable_unclear": 3,
    **{r: 1 for r in NOT_HANDLED_ROWS}, "not_handled_petition": 5, "not_handled_repeated": 3,
    "other_handling": 4, "other_no_correction": 2, "other_fee_unpaid": 1, "other_other": 2,
}
# Share of an agency's requests that each applicant type files, and how often it files at all.
APPLICANT_SHARE = {
    "natural_person": (1.0, 1.0), "commercial_enterprise": (0.2, 0.6), "research_institution": (0.05, 0.1),
    "public_welfare_org": (0.05, 0.1), "legal_service_org": (0.1, 0.35), "other_org": (0.1, 0.4),
}
REVIEW_RESULTS = ("upheld", "corrected", "other", "pending")
PROCEEDINGS_TABLE = ("reconsideration", "litigation_direct", "litigation_after_reconsideration")


def outcome_rows(era: str) -> list[str]:
    return (["granted", "partially_granted"] + list(WITHHELD_ROWS) + list(UNAVAILABLE_ROWS)
            + list(NOT_HANDLED_ROWS) + list(era_named(era).other_handling_rows))


@dataclass
class Figures:
    era: str
    requests: dict[tuple[str, str], int] = field(default_factory=dict)
    reviews: dict[tuple[str, str], int] = field(default_factory=dict)
    proactive: dict[tuple[str, str], tuple[float | int, str | None]] = field(default_factory=dict)
    # era P only: what the prose says beyond the keyed figures
    prose: dict[str, int] = field(default_factory=dict)


@dataclass
class AgencyState:
    """Running totals that continue from one year's report to the next."""
    carried_forward: dict[str, int] | None = None   # last table-era report's 四、结转下年度继续办理
    normative_in_force: int = 0
    rules_in_force: int = 0
    published_total: int = 0                        # cumulative proactive items (era P 累计)
    items: dict[str, int] = field(default_factory=dict)  # table-2019 item counts per item type


def _split(rng: random.Random, total: int, keys: list[str]) -> dict[str, int]:
    out = dict.fromkeys(keys, 0)
    weights = [OUTCOME_WEIGHTS.get(k, 1) for k in keys]
    for key in rng.choices(keys, weights, k=total):
        out[key] += 1
    return out


def _year_factor(year: int) -> float:
    """Requests grew after the 2019 revision of the regulation."""
    return 0.6 if year < 2019 else 1.0 + 0.12 * (year - 2019)


def _received(rng: random.Random, scale: float) -> dict[str, int]:
    out = {}
    for col, (share, prob) in APPLICANT_SHARE.items():
        mean = scale * share
        out[col] = rng.randint(int(mean * 0.5), int(mean * 1.5) + 1) if rng.random() < prob else 0
    return out


def table_requests(rng: random.Random, agency: Agency, year: int, era: str,
                   carried_over: dict[str, int] | None) -> dict[tuple[str, str], int]:
    """Table 三, every column balanced: received_new + carried_over = handled_total + carried_forward."""
    received = _received(rng, agency.scale * _year_factor(year))
    if carried_over is None:
        carried_over = {c: (rng.randint(0, max(0, agency.scale // 12)) if c == "natural_person" else 0)
                        for c in APPLICANT_ADDENDS}
    rows = outcome_rows(era)
    table: dict[tuple[str, str], int] = {}
    for col in APPLICANT_ADDENDS:
        available = received[col] + carried_over[col]
        forward = rng.randint(0, available // 6) if available else 0
        handled = _split(rng, available - forward, rows)
        cells = {"received_new": received[col], "carried_over": carried_over[col], **handled,
                 "handled_total": available - forward, "carried_forward": forward}
        for row, value in cells.items():
            table[(row, col)] = value
    for row in {r for r, _ in table}:
        table[(row, "total")] = sum(table[(row, c)] for c in APPLICANT_ADDENDS)
    return table


def table_reviews(rng: random.Random, agency: Agency) -> dict[tuple[str, str], int]:
    """Table 四: total = upheld + corrected + other + pending for each proceeding."""
    out = {}
    for proc in PROCEEDINGS_TABLE:
        lam = agency.scale / (40 if proc == "reconsideration" else 80)
        cases = sum(1 for _ in range(6) if rng.random() < min(0.9, lam / 6))
        parts = dict.fromkeys(REVIEW_RESULTS, 0)
        for res in rng.choices(REVIEW_RESULTS, [6, 1, 2, 1], k=cases):
            parts[res] += 1
        for res, value in parts.items():
            out[(proc, res)] = value
        out[(proc, "total")] = cases
    return out


def _money(rng: random.Random, low: float, high: float, decimals: int) -> float:
    scale = 10 ** decimals
    return rng.randint(int(low * scale), int(high * scale)) / scale


def proactive_2019(rng: random.Random, agency: Agency, state: AgencyState) -> dict:
    out: dict[tuple[str, str], tuple] = {}
    doc_rows = (("rules", agency.makes_rules), ("normative_documents", True))
    for item, active in doc_rows:
        made = rng.randint(1, 12) if active and (item == "normative_documents" or rng.random() < 0.7) else 0
        published = made if rng.random() < 0.8 else max(0, made - 1)
        attr = "rules_in_force" if item == "rules" else "normative_in_force"
        total = getattr(state, attr) + published + (rng.randint(20, 60) if getattr(state, attr) == 0 and active else 0)
        setattr(state, attr, total)
        out[(item, "newly_made")] = (made, None)
        out[(item, "newly_published")] = (published, None)
        out[(item, "published_total")] = (total, None)
    for item, base in (("administrative_licensing", 60), ("other_external_services", 15),
                       ("administrative_penalty", 120), ("administrative_coercion", 20)):
        prev = state.items.setdefault(item, rng.randint(base // 4, base))
        change = rng.choice([0, 0, 0, rng.randint(-5, 8)])
        state.items[item] = max(0, prev + change)
        out[(item, "items_prev_year")] = (prev, None)
        out[(item, "items_change")] = (state.items[item] - prev, None)
        out[(item, "decisions")] = (rng.randint(0, agency.scale * 8) if rng.random() < 0.8 else 0, None)
    prev = state.items.setdefault("administrative_fees", rng.randint(0, 12))
    change = rng.choice([0, 0, -1, 1]) if prev else 0
    out[("administrative_fees", "items_prev_year")] = (prev, None)
    out[("administrative_fees", "items_change")] = (change, None)
    state.items["administrative_fees"] = prev + change
    unit = agency.style.procurement_unit
    count = rng.randint(0, 60)
    amount = (_money(rng, 5, 5000, 2) if unit == "万元" else _money(rng, 50000, 9_000_000, 2)) if count else 0
    out[("centralized_procurement", "count")] = (count, None)
    out[("centralized_procurement", "amount")] = (amount, unit)
    return out


def proactive_2021(rng: random.Random, agency: Agency, state: AgencyState) -> dict:
    out: dict[tuple[str, str], tuple] = {}
    for item, active in (("rules", agency.makes_rules), ("normative_documents", True)):
        attr = "rules_in_force" if item == "rules" else "normative_in_force"
        if getattr(state, attr) == 0 and active:
            setattr(state, attr, rng.randint(20, 60))
        issued = rng.randint(1, 10) if active and (item == "normative_documents" or rng.random() < 0.7) else 0
        repealed = min(getattr(state, attr), rng.choice([0, 0, rng.randint(1, 5)])) if active else 0
        setattr(state, attr, getattr(state, attr) + issued - repealed)
        out[(item, "issued")] = (issued, None)
        out[(item, "repealed")] = (repealed, None)
        out[(item, "in_force")] = (getattr(state, attr), None)
    for item in ("administrative_licensing", "administrative_penalty", "administrative_coercion"):
        out[(item, "decisions")] = (rng.randint(0, agency.scale * 10) if rng.random() < 0.8 else 0, None)
    fees = _money(rng, 0.5, 20 * agency.scale, 4) if rng.random() < 0.6 else 0
    out[("administrative_fees", "amount")] = (fees, "万元")
    return out


def table_figures(rng: random.Random, agency: Agency, year: int, era: str, state: AgencyState,
                  carried_over: dict[str, int] | None) -> Figures:
    figs = Figures(era)
    make = proactive_2021 if era == "table_2021" else proactive_2019
    figs.proactive = make(rng, agency, state)
    figs.requests = table_requests(rng, agency, year, era, carried_over)
    figs.reviews = table_reviews(rng, agency)
    return figs


PROSE_SUBTYPES = ("工作动态", "通知公告", "人事信息", "财政信息")
PROSE_OUTCOMES = ("granted", "partially_granted", "withheld", "unavailable_not_held_other_body",
                  "unavailable_nonexistent")


def prose_figures(rng: random.Random, agency: Agency, year: int, state: AgencyState) -> Figures:
    """Era P: one year's items, requests received and answered, reviews (undivided litigation)."""
    figs = Figures("prose")
    p = figs.prose
    p["rules"] = rng.randint(1, 6) if agency.makes_rules else 0
    p["normative_documents"] = rng.randint(0, 4 + agency.scale // 8)
    for i, name in enumerate(PROSE_SUBTYPES):
        p[name] = rng.randint(5, 20 + agency.scale * (4 - i)) if i < 2 or rng.random() < 0.7 else 0
    p["all_items"] = p["rules"] + p["normative_documents"] + sum(p[n] for n in PROSE_SUBTYPES)
    if state.published_total == 0:
        state.published_total = rng.randint(200, 2000)
    state.published_total += p["all_items"]
    p["published_total"] = state.published_total
    received = rng.randint(0, int(agency.scale * _year_factor(year))) if rng.random() < 0.85 else 0
    p["received_new"] = received
    p.update(zip(("当面申请", "网络申请", "信函申请"), _three_way(rng, received)))
    outcomes = _split(rng, received, ["granted", "partially_granted", "withheld_third_party",
                                      "unavailable_needs_creation", "unavailable_not_held"])
    p["granted"], p["partially_granted"] = outcomes["granted"], outcomes["partially_granted"]
    p["withheld"] = outcomes["withheld_third_party"]
    p["unavailable_not_held_other_body"] = outcomes["unavailable_needs_creation"]
    p["unavailable_nonexistent"] = outcomes["unavailable_not_held"]
    p["handled_total"] = received
    for proc, divisor in (("reconsideration", 60), ("litigation", 120)):
        cases = sum(1 for _ in range(4) if rng.random() < min(0.8, agency.scale / divisor / 4))
        parts = dict.fromkeys(("upheld", "corrected", "other"), 0)
        for res in rng.choices(list(parts), [6, 1, 2], k=cases):
            parts[res] += 1
        p[proc] = cases
        for res, value in parts.items():
            p[f"{proc}_{res}"] = value
    return figs


def _three_way(rng: random.Random, total: int) -> tuple[int, int, int]:
    a = rng.randint(0, total)
    b = rng.randint(0, total - a)
    return a, b, total - a - b
