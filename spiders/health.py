"""Health of a crawl compared with the ones before it (pure functions over run summaries).

A source's listings are walked in full, or partly: a nightly run stops paging a column at a
newest-first page whose reports are all archived (spider.ReportSpider). A partial walk does
not measure how many reports the column holds, so falls are measured between full walks.

A host that stopped answering has its circuit opened during the crawl (spiders.circuit): the
summary names it (hosts_cut_off), and a source whose requests were skipped for it is compared
(its fall is real news) but is no baseline for later runs.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path


def reports_reached(source_summary: dict) -> int:
    """Reports a source's columns led to in one run: fetched now or already in the archive."""
    return max(source_summary.get("report_links_found", 0),
               source_summary.get("reports", 0) + source_summary.get("already_archived", 0))


def walked_in_full(source_summary: dict) -> bool:
    return source_summary.get("listing_walk", "full") == "full"  # summaries before partial walks: full


def cut_off(source_summary: dict) -> bool:
    """Requests of the source were not sent because their host's circuit was open."""
    return bool(source_summary.get("circuit_skipped"))


def hosts_cut_off(summary: dict) -> dict[str, dict]:
    """{host: the circuit breaker's figures} for the hosts whose circuit opened during the run
    (failed HOST_FAILURE_LIMIT times in a row at the connection level)."""
    return {host: figures for host, figures in (summary.get("circuits") or {}).items() if figures.get("opened")}


def latest_full_walks(archive_dir: str | Path, run_id: str | None = None) -> dict[str, dict]:
    """{source_id: its summary entry, with the run's finished_at} from the latest crawl (other than
    `run_id`, and not cut short) that walked that source's listings in full, none of its hosts cut
    off by an open circuit."""
    latest: dict[str, dict] = {}
    for path in Path(archive_dir, "manifest").glob("crawl-*.summary.json"):
        summary = json.loads(path.read_text(encoding="utf-8"))
        # a crawl cut short (Ctrl-C, closespider) walked nothing to the end
        if summary.get("run_id") == run_id or summary.get("finish_reason", "finished") != "finished":
            continue
        finished = summary.get("finished_at", "")
        for source_id, entry in summary.get("sources", {}).items():
            if (walked_in_full(entry) and not cut_off(entry)
                    and finished >= latest.get(source_id, {}).get("finished_at", "")):
                latest[source_id] = {**entry, "finished_at": finished}
    return latest


def sources_due_a_full_walk(source_ids, full_walks: dict[str, dict], max_age_days: float,
                            now: datetime | None = None) -> set[str]:
    """Sources never walked in full, or not for `max_age_days`: their listings are walked to the end
    (a column re-sorted, or a report inserted deep in it, is caught within that many days)."""
    now = now or datetime.now(timezone.utc)
    due = set()
    for source_id in source_ids:
        finished = full_walks.get(source_id, {}).get("finished_at")
        if not finished or now - datetime.fromisoformat(finished) >= timedelta(days=max_age_days):
            due.add(source_id)
    return due


def sources_that_dropped(baselines: dict[str, dict], current: dict, max_drop_share: float) -> dict[str, tuple[int, int]]:
    """Sources walked in full now whose reachable reports fell by more than `max_drop_share` since
    their last full walk (`baselines`, from latest_full_walks): {source_id: (before, now)}.
    A source without a baseline, or walked partly now, is not compared."""
    dropped = {}
    for source_id, now in current.get("sources", {}).items():
        before = baselines.get(source_id)
        if before is None or not walked_in_full(now):
            continue
        n_before, n_now = reports_reached(before), reports_reached(now)
        if n_before and (n_before - n_now) / n_before > max_drop_share:
            dropped[source_id] = (n_before, n_now)
    return dropped
