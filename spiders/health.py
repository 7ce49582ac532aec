"""Health of a crawl compared with the one before it (pure functions over run summaries)."""
from __future__ import annotations

import json
from pathlib import Path


def reports_reached(source_summary: dict) -> int:
    """Reports a source's columns led to in one run: fetched now or already in the archive."""
    return max(source_summary.get("report_links_found", 0),
               source_summary.get("reports", 0) + source_summary.get("already_archived", 0))


def previous_summary(archive_dir: str | Path, run_id: str) -> dict | None:
    """The summary of the latest crawl before `run_id` (by finish time), if any."""
    summaries = []
    for path in Path(archive_dir, "manifest").glob("crawl-*.summary.json"):
        summary = json.loads(path.read_text(encoding="utf-8"))
        if summary.get("run_id") != run_id:
            summaries.append(summary)
    return max(summaries, key=lambda s: s.get("finished_at", ""), default=None)


def sources_that_dropped(previous: dict | None, current: dict, max_drop_share: float) -> dict[str, tuple[int, int]]:
    """Sources whose reachable reports fell by more than `max_drop_share` since the previous run:
    {source_id: (before, now)}. A source absent from the previous run is not compared."""
    if not previous:
        return {}
    dropped = {}
    for source_id, now in current.get("sources", {}).items():
        before = previous.get("sources", {}).get(source_id)
        if before is None:
            continue
        n_before, n_now = reports_reached(before), reports_reached(now)
        if n_before and (n_before - n_now) / n_before > max_drop_share:
            dropped[source_id] = (n_before, n_now)
    return dropped
