"""Run one crawl in this process; meant to be started as a subprocess (Scrapy's reactor
cannot restart, so Dagster never runs a crawl in its own process):

    python -m spiders.run --sources sources.yaml --archive data/raw --run-id 20260101T000000 \
        [--profile polite|loopback] [--base-url http://127.0.0.1:8000] [--source ID ...] \
        [--include-disabled] [--user-agent UA] [--refetch] [--full-walk] [--full-walk-days DAYS] \
        [--revisit-days DAYS] \
        [--max-size BYTES] [--download-timeout SECONDS] [--set NAME=VALUE ...] \
        [--progress auto|rich|plain|off] [--progress-interval SECONDS]

Writes ARCHIVE/manifest/crawl-<run_id>.parquet and crawl-<run_id>.summary.json, prints
a one-line summary on stdout. Exit status: 0 when the crawl ran (sources without reports
are marked in the summary, not here), 1 on a crash, 2 on bad arguments.

Progress goes to stderr (spiders.progress): a live panel when stderr is a terminal, else
a plain line every --progress-interval seconds (auto), and a per-source table at the end.

Incremental: report pages and attachments already archived with status 200 are not
fetched again (--refetch overrides) until their latest fetch is --revisit-days old (default 30;
0 = every run): then they are requested again, conditionally when the manifest kept their
ETag / Last-Modified (spiders.revisit), and a changed body is archived as a new fetch; listing pages are revalidated through Scrapy's
HTTP cache (RFC 2616 policy: If-None-Match / If-Modified-Since, 304 served from cache).
A source walked in full within --full-walk-days (default 7) is walked partly: the paging of
a column stops at a newest-first page whose reports are all archived (report_spider);
--full-walk (or --refetch) walks every source's listings to the end.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from spiders.revisit import DEFAULT_REVISIT_DAYS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m spiders.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sources", required=True, help="sources registry (YAML)")
    ap.add_argument("--archive", required=True, help="raw archive directory")
    ap.add_argument("--run-id", required=True)
    ap.add_argument("--profile", default="polite", choices=("polite", "loopback"))
    ap.add_argument("--base-url", help="substituted for {BASE} in entry URLs")
    ap.add_argument("--source", action="append", dest="source_ids", metavar="ID", help="crawl only this source (repeatable)")
    ap.add_argument("--include-disabled", action="store_true", help="also crawl sources marked enabled: false")
    ap.add_argument("--user-agent", help="overrides DISCLOSURE_USER_AGENT and the default")
    ap.add_argument("--refetch", action="store_true",
                    help="fetch report pages and attachments again even when the archive holds them")
    ap.add_argument("--full-walk", action="store_true",
                    help="walk every listing to its last page (default: only sources due a full walk)")
    ap.add_argument("--full-walk-days", type=float, default=7.0, metavar="DAYS",
                    help="a source whose last full walk is this old is walked in full again (default 7)")
    ap.add_argument("--revisit-days", type=float, default=DEFAULT_REVISIT_DAYS, metavar="DAYS",
                    help="request an archived report page or attachment again when its latest fetch is this old, "
                         f"spread over a quarter more by URL (default {DEFAULT_REVISIT_DAYS:g}; 0: every run)")
    # Overrides of the profile, for tests of the size cap and of timeouts (and for a site
    # known to publish larger attachments than the profile allows).
    ap.add_argument("--max-size", type=int, metavar="BYTES",
                    help="DOWNLOAD_MAXSIZE: responses larger than this (also once decompressed) are dropped and recorded")
    ap.add_argument("--download-timeout", type=float, metavar="SECONDS", help="DOWNLOAD_TIMEOUT")
    ap.add_argument("--set", action="append", dest="settings", default=[], metavar="NAME=VALUE",
                    help="override one Scrapy setting of the profile (repeatable), e.g. HOST_FAILURE_LIMIT=3")
    ap.add_argument("--progress", default="auto", choices=("auto", "rich", "plain", "off"),
                    help="progress on stderr: auto is rich on a terminal, plain lines otherwise")
    ap.add_argument("--progress-interval", type=float, metavar="SECONDS",
                    help="seconds between plain progress lines (default: CRAWL_PROGRESS_INTERVAL, 10)")
    args = ap.parse_args(argv)
    if args.max_size is not None and args.max_size <= 0:
        ap.error("--max-size must be a positive number of bytes")
    if args.download_timeout is not None and args.download_timeout <= 0:
        ap.error("--download-timeout must be positive")
    if args.full_walk_days < 0:
        ap.error("--full-walk-days must not be negative")
    if not args.revisit_days >= 0:  # also refuses nan
        ap.error("--revisit-days must not be negative")
    if args.progress_interval is not None and args.progress_interval <= 0:
        ap.error("--progress-interval must be positive")
    for item in args.settings:
        name, sep, _ = item.partition("=")
        if not sep or not name.strip() or name.strip() != name.strip().upper():
            ap.error(f"--set {item!r}: expected NAME=VALUE with an upper-case setting name")
    if args.progress == "auto":
        args.progress = "rich" if sys.stderr.isatty() else "plain"
    return args


def one_line(summary: dict) -> str:
    t = summary["totals"]
    empty = [source_id for source_id, s in summary["sources"].items() if s["status"] == "no_reports"]
    line = (f"crawl {summary['run_id']}: {t.get('pages_fetched', 0)} pages fetched, {t.get('reports', 0)} reports, "
            f"{t.get('attachments', 0)} attachments, {t.get('errors', 0)} errors ({summary['finish_reason']})")
    if t.get("revisited"):
        line += f"; {t['revisited']} archived pages revisited, {t.get('revisit_changed', 0)} changed"
    line += f"; no reports from: {', '.join(empty)}" if empty else ""
    cut = summary.get("open_circuits") or []
    return line + (f"; hosts cut off (circuit open): {', '.join(cut)}" if cut else "")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from spiders.sources import load_sources

    try:
        sources = load_sources(args.sources, only_ids=args.source_ids, base_url=args.base_url,
                               include_disabled=args.include_disabled)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not sources:
        print("error: no enabled sources to crawl (see enabled: in the registry, or --include-disabled)", file=sys.stderr)
        return 2

    # Scrapy only now: the argument errors above answer fast
    from scrapy.crawler import CrawlerProcess

    from spiders.archive_pipeline import summary_path
    from spiders.health import latest_full_walks, sources_due_a_full_walk
    from spiders.progress import make_console, print_summary
    from spiders.report_spider import ReportSpider
    from spiders.settings import crawl_settings

    from warehouse.storage.archive import RawArchive

    from warehouse.storage.locking import WriterBusy, writer_lock

    try:  # one writer of the data directory at a time: the manifest and summary are written inside
        with writer_lock(Path(args.archive).resolve().parent, "crawl"):
            archive = RawArchive(args.archive)
            known_urls = set() if args.refetch else archive.archived_urls()
            revisits = {}
            if known_urls:
                from datetime import datetime, timezone

                from spiders.circuit import may_answer_later
                from spiders.revisit import manifest_rows_for_revisits, pages_to_fetch_again, plan_revisits

                rows = manifest_rows_for_revisits(archive)
                revisits = plan_revisits(rows, args.revisit_days, datetime.now(timezone.utc))
                known_urls -= pages_to_fetch_again(rows, may_answer_later)
            partial_walk = set()
            if known_urls and not args.full_walk:
                ids = [s.id for s in sources]
                partial_walk = set(ids) - sources_due_a_full_walk(ids, latest_full_walks(args.archive), args.full_walk_days)
            overrides = {}
            if args.max_size is not None:
                overrides["DOWNLOAD_MAXSIZE"] = args.max_size
                overrides["DOWNLOAD_WARNSIZE"] = min(args.max_size, crawl_settings(args.profile)["DOWNLOAD_WARNSIZE"])
            if args.download_timeout is not None:
                overrides["DOWNLOAD_TIMEOUT"] = args.download_timeout
            if args.progress_interval is not None:
                overrides["CRAWL_PROGRESS_INTERVAL"] = args.progress_interval
            for item in args.settings:
                name, _, value = item.partition("=")
                overrides[name.strip()] = value.strip()  # Scrapy's getint/getfloat/getbool read strings
            settings = crawl_settings(args.profile, args.user_agent, ARCHIVE_DIR=args.archive, CRAWL_RUN_ID=args.run_id,
                                      HTTPCACHE_DIR=str(archive.root.resolve() / "httpcache"),
                                      CRAWL_PROGRESS=args.progress, **overrides)
            process = CrawlerProcess(settings)
            summary_file = summary_path(args.archive, args.run_id)
            summary_file.unlink(missing_ok=True)  # a stale summary of a reused run id must not pass for this one
            process.crawl(ReportSpider, sources=sources, run_id=args.run_id, known_urls=known_urls,
                          partial_walk_sources=partial_walk, revisits=revisits)
            process.start()

    except WriterBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3

    if not summary_file.exists():  # the pipeline failed to write: that is a crash
        print(f"error: crawl ended without writing {summary_file}", file=sys.stderr)
        return 1
    summary = json.loads(summary_file.read_text(encoding="utf-8"))
    if args.progress != "off":
        print_summary(summary, make_console(args.progress))
    print(one_line(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
