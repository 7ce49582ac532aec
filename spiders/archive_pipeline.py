"""Item pipeline: bodies into the raw archive, rows into the run's manifest.

Bodies are stored as they arrive (content-addressed: a body already in the archive
is not written again, so re-runs never duplicate). Manifest rows are kept in memory
and written once, atomically, when the spider closes, followed by the run summary:
a crawl killed before that leaves no manifest for its run, never half of one.

The summary also names the URLs refused by the allow-list (per source: offsite_refused) and the
hosts that failed at the connection level (circuits: from spiders.circuit, with the requests
skipped while a host's circuit was open: per source, circuit_skipped).

Settings read: ARCHIVE_DIR, CRAWL_RUN_ID.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.exceptions import IgnoreRequest

from spiders.circuit import CIRCUIT_OPEN, CIRCUIT_STATS_KEY
from spiders.report_spider import OFFSITE_ERROR, REDIRECT_REFUSED, manifest_row
from warehouse.storage.archive import RawArchive


def summary_path(archive_dir: str | Path, run_id: str) -> Path:
    return Path(archive_dir) / "manifest" / f"crawl-{run_id}.summary.json"


CIRCUIT_SKIPPED = f"IgnoreRequest: {CIRCUIT_OPEN}:"


def row_outcome(row: dict) -> str | None:
    """The summary count a manifest row adds to: "depth_limited", "offsite_refused", "circuit_skipped",
    "errors", "reports", "attachments" or "listings" (None for the others: robots.txt, other pages)."""
    error = row["error"] or ""
    # links not followed by policy, and requests not sent to a host cut off: not failed fetches
    if error.startswith("DepthLimit"):
        return "depth_limited"
    if error.startswith(OFFSITE_ERROR):
        return "offsite_refused"
    if error.startswith(CIRCUIT_SKIPPED):
        return "circuit_skipped"
    if row["error"] is not None or row["status"] is None or row["status"] >= 400:
        return "errors"
    if row["kind"] in ("report", "attachment", "listing"):
        return row["kind"] + "s"
    return None


def _circuit_host(error: str) -> str:
    """The host of a "circuit open: host H failed …" error."""
    return error.removeprefix(CIRCUIT_SKIPPED).strip().removeprefix("host ").split(" ", 1)[0]


def summarize(rows: list[dict], spider, circuits: dict[str, dict] | None = None) -> dict[str, Any]:
    """Per-source and total counts. A source without a single report fetched is
    marked "no_reports" so a later check can fail on it. `circuits`: the circuit breaker's
    report ({host: figures}, spiders.circuit), kept as the summary's "circuits"."""
    per_source: dict[str, Counter] = {source_id: Counter() for source_id in spider.sources}
    cut_off: dict[str, Counter] = {}  # source -> hosts whose open circuit skipped its requests
    for row in rows:
        counts = per_source.setdefault(row["source_id"] or "?", Counter())
        if row["status"] is not None:
            counts["pages_fetched"] += 1
        outcome = row_outcome(row)
        if outcome:
            counts[outcome] += 1
        error = row["error"] or ""
        if error.startswith("IgnoreRequest: Forbidden by robots.txt"):
            counts["robots_forbidden"] += 1
        if outcome == "offsite_refused" or error.startswith(REDIRECT_REFUSED):
            counts["refused_by_allow_list"] += 1
        if outcome == "circuit_skipped":
            cut_off.setdefault(row["source_id"] or "?", Counter())[_circuit_host(error)] += 1
        if row.get("revisit_of") and row["status"] in (200, 304) and not error:
            counts["revisited"] += 1
            if row["status"] == 200 and row.get("sha256") != row["revisit_of"]:
                counts["revisit_changed"] += 1
    sources = {}
    for source_id, counts in per_source.items():
        source = spider.sources.get(source_id)
        reach = spider.reach.get(source_id)
        entry = {key: counts[key] for key in ("pages_fetched", "listings", "reports", "attachments", "errors",
                                              "robots_forbidden", "depth_limited", "offsite_refused",
                                              "refused_by_allow_list", "circuit_skipped", "revisited",
                                              "revisit_changed")}
        entry["name"] = source.name if source else None
        entry["report_links_found"] = len(reach.report_links) if reach else 0
        entry["declared_items"] = reach.declared_items if reach else None
        entry["already_archived"] = len(reach.already_archived) if reach else 0
        entry["listing_walk"] = "partial" if reach and reach.pages_not_walked else "full"
        entry["listing_pages_not_walked"] = reach.pages_not_walked if reach else 0
        warnings = []
        if (reach and not reach.pages_not_walked and reach.declared_items
                and reach.declared_items > len(reach.report_links)):
            warnings.append(
                f"the column declares {reach.declared_items} items but only {len(reach.report_links)} "
                "report links were reachable (older items are probably loaded by script)"
            )
        if counts["depth_limited"]:
            warnings.append(f"{counts['depth_limited']} links not followed beyond DEPTH_LIMIT "
                            "(a pagination trap, or a column deeper than the limit)")
        if counts["refused_by_allow_list"]:
            warnings.append(f"{counts['refused_by_allow_list']} links or redirects off the source's allow-list "
                            "not followed (another site, port or scheme: see the manifest's errors)")
        hosts = cut_off.get(source_id, Counter())
        entry["hosts_cut_off"] = sorted(hosts)
        for host, skipped in sorted(hosts.items()):
            times = (circuits or {}).get(host, {}).get("failures_in_a_row") or "HOST_FAILURE_LIMIT"
            warnings.append(f"{skipped} requests not sent: {CIRCUIT_OPEN}: host {host} failed {times} times "
                            "in a row at the connection level")
        entry["warnings"] = warnings
        # Reports archived by earlier runs still count: a quiet night is not an empty source.
        entry["status"] = "ok" if counts["reports"] or entry["already_archived"] else "no_reports"
        sources[source_id] = entry
    totals = Counter()
    for entry in sources.values():
        totals.update({k: entry[k] for k in ("pages_fetched", "listings", "reports", "attachments", "errors",
                                             "already_archived", "depth_limited", "listing_pages_not_walked",
                                             "offsite_refused", "refused_by_allow_list", "circuit_skipped",
                                             "revisited", "revisit_changed")})
    circuits = dict(circuits or {})
    return {"totals": dict(totals), "sources": sources, "circuits": circuits,
            "open_circuits": sorted(host for host, c in circuits.items() if c.get("opened"))}


class ArchivePipeline:
    def __init__(self, crawler, archive_dir: str, run_id: str):
        self.crawler = crawler
        self.archive = RawArchive(archive_dir)
        self.archive_dir = archive_dir
        self.run_id = run_id
        self.rows: list[dict] = []
        self.started_at = datetime.now(timezone.utc)

    @classmethod
    def from_crawler(cls, crawler):
        archive_dir = crawler.settings.get("ARCHIVE_DIR")
        run_id = crawler.settings.get("CRAWL_RUN_ID")
        if not archive_dir or not run_id:
            raise ValueError("ArchivePipeline needs the ARCHIVE_DIR and CRAWL_RUN_ID settings")
        pipeline = cls(crawler, archive_dir, run_id)
        crawler.signals.connect(pipeline.record_robots_txt, signal=signals.response_received)
        crawler.signals.connect(pipeline.check_redirect, signal=signals.request_scheduled)
        crawler.signals.connect(pipeline.record_dropped_redirect, signal=signals.request_dropped)
        crawler.signals.connect(pipeline.write_run, signal=signals.spider_closed)
        return pipeline

    def _keep(self, row: dict) -> dict:
        body = row.pop("body", None)
        if body is not None:
            row["sha256"], row["size"] = self.archive.put(body), len(body)
        else:  # no body; a 304 of a revisit names the body archived before
            row["sha256"], row["size"] = row.get("sha256"), row.get("size")
        self.rows.append(row)
        return row

    def process_item(self, item: dict):
        return self._keep(dict(item))  # the row without its body, for logs and later stages

    def record_robots_txt(self, response, request, spider):
        """robots.txt is fetched by RobotsTxtMiddleware, outside the spider's callbacks."""
        if request.meta.get("dont_obey_robotstxt") and request.url.endswith("/robots.txt"):
            source = spider.source_for_url(request.url)
            self._keep(manifest_row(request, response, run_id=self.run_id, kind="robots",
                                    source_id=source.id if source else None))

    def check_redirect(self, request, spider):
        """A redirect off the source's allow-list is refused, and leaves a row (the request
        it came from would otherwise vanish: no callback, no errback)."""
        refused = spider.refuse_redirect(request) if hasattr(spider, "refuse_redirect") else None
        if refused:
            self._keep(manifest_row(request, None, run_id=self.run_id, error=refused))
            raise IgnoreRequest(refused)  # the engine drops a request a request_scheduled handler refuses

    def record_dropped_redirect(self, request, spider):
        """The dupefilter drops a redirect to a URL already requested (a redirect loop, or
        several URLs redirecting to one page) without an errback: keep the row of the URL
        that was asked for. Plain duplicate links are not recorded (the first one has its row)."""
        if request.meta.get("redirect_urls"):
            self._keep(manifest_row(request, None, run_id=self.run_id,
                                    error=f"IgnoreRequest: redirected to {request.url}, which was already "
                                          "requested (a redirect loop, or a duplicate)"))

    def write_run(self, spider, reason: str):
        manifest = self.archive.write_manifest(self.rows, self.run_id)
        summary = {
            "run_id": self.run_id,
            "finish_reason": reason,
            "started_at": self.started_at.isoformat(),
            "finished_at": datetime.now(timezone.utc).isoformat(),
            "manifest": str(manifest),
            **summarize(self.rows, spider, self.crawler.stats.get_value(CIRCUIT_STATS_KEY)),
        }
        path = summary_path(self.archive_dir, self.run_id)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, path)
