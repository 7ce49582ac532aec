"""Era P: free prose under the 2008 regulations (report years up to 2018), often with a
statistics table of the 2008 indicators (收到申请数, 同意公开答复数 …).

Recognised by elimination: a disclosure report printing no table layout's words. Its request
outcomes are undivided (不同意公开 → withheld; 不属于本机关公开 and 信息不存在 → unavailable) and its
lawsuits are one figure.
"""
from warehouse.eras.registry import PROSE, Era, register
from warehouse.eras._shared import RESULTS

ERA = register(Era(
    name="prose", label="Prose (2008 regulations)", layout=PROSE, first_year=2008,
    check_families=("reviews_totals",),   # a total and its split of reviews, where stated; no table 三
    crosswalk=(
        ("requests_received", "requests", "received_new", "total"),
        ("requests_carried_over", "requests", "carried_over", "total"),
        ("granted_full", "requests", "granted", "total"),
        ("granted_part", "requests", "partially_granted", "total"),
        ("withheld", "requests", "withheld", "total"),
        ("unavailable", "requests", "unavailable_not_held_other_body", "total"),
        ("unavailable", "requests", "unavailable_nonexistent", "total"),
        ("handled_total", "requests", "handled_total", "total"),
        ("requests_carried_forward", "requests", "carried_forward", "total"),
        *((f"reconsiderations_{r}", "reviews", "reconsideration", r) for r in RESULTS),
        *((f"lawsuits_{r}", "reviews", "litigation", r) for r in RESULTS),
        ("proactive_items", "proactive", "all_items", "count"),
        ("rules_issued", "proactive", "rules", "count"),
        ("normative_documents_issued", "proactive", "normative_documents", "count"),
    ),
))
