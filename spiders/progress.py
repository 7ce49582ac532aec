"""Crawl progress a person can follow, on stderr: a live panel (rich) on a terminal, else a
plain line every CRAWL_PROGRESS_INTERVAL seconds (Dagster's and CI's logs get a line now
and then, not a flood); and the per-source table that spiders.run prints at the end.

The live counts come from signals: pages are the responses received, reports/attachments/
errors the manifest rows the spider yields, counted as the run summary counts them
(spiders.archive_pipeline.row_outcome). Rows the pipeline records on its own (robots.txt,
refused redirects) only appear in the summary, which the closing table is made from.

Settings read: CRAWL_PROGRESS ("off", "plain", "rich"), CRAWL_PROGRESS_INTERVAL, CRAWL_RUN_ID.
"""
from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from datetime import timedelta

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

from spiders.archive_pipeline import row_outcome
from spiders.retry import RETRY_WAITING_STAT

MODES = ("plain", "rich")
RICH_REFRESH = 0.5  # seconds between redraws of the live panel
FIGURES_PER_ROW = 3  # label/value pairs per line of the live panel


def make_console(mode: str) -> Console:
    """stderr, drawn as on a terminal when rich was asked for (also through a pipe: `| tee`)."""
    return Console(stderr=True, force_terminal=True if mode == "rich" else None)


class CrawlProgress:
    def __init__(self, crawler, mode: str, interval: float):
        self.crawler = crawler
        self.mode = mode
        self.interval = RICH_REFRESH if mode == "rich" else interval
        self.counts: Counter = Counter()
        self.sources_reached: set[str] = set()
        self.current_source: str | None = None
        self.total_sources = 0
        self.started = time.monotonic()
        self.task = None
        self.live: Live | None = None
        self.stderr = sys.stderr  # the stream Scrapy's log handler writes to, while the panel is up
        self.rerouted_log_handlers: list[logging.StreamHandler] = []

    @classmethod
    def from_crawler(cls, crawler):
        mode = crawler.settings.get("CRAWL_PROGRESS", "off")
        if mode == "off":
            raise NotConfigured
        if mode not in MODES:
            raise ValueError(f"CRAWL_PROGRESS {mode!r}: choose off or one of {MODES}")
        progress = cls(crawler, mode, crawler.settings.getfloat("CRAWL_PROGRESS_INTERVAL"))
        crawler.signals.connect(progress.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(progress.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(progress.response_received, signal=signals.response_received)
        crawler.signals.connect(progress.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(progress.count_error, signal=signals.spider_error)
        crawler.signals.connect(progress.count_error, signal=signals.item_error)
        return progress

    # --- signals ----------------------------------------------------------------

    def spider_opened(self, spider):
        self.started = time.monotonic()
        self.total_sources = len(getattr(spider, "sources", ()))
        if self.mode == "rich":
            self._start_live()
        self.task = create_looping_call(self.refresh)
        self.task.start(self.interval, now=False)

    def spider_closed(self, spider, reason):
        if self.task is not None and self.task.running:
            self.task.stop()
        if self.live is not None:
            self._stop_live()
        else:
            self.refresh()  # the last state, however short the crawl

    def response_received(self, response, request, spider):
        self.counts["pages"] += 1
        source_id = request.meta.get("source_id")  # none on robots.txt requests
        if source_id:
            self.current_source = source_id
            self.sources_reached.add(source_id)

    def item_scraped(self, item, response, spider):
        outcome = row_outcome(item)
        if outcome:
            self.counts[outcome] += 1

    def count_error(self, **kwargs):
        """A callback or a pipeline that raised."""
        self.counts["errors"] += 1

    # --- display ----------------------------------------------------------------

    def figures(self) -> list[tuple[str, str]]:
        elapsed = time.monotonic() - self.started
        stats = self.crawler.stats
        c = self.counts
        return [
            ("elapsed", str(timedelta(seconds=int(elapsed)))),
            ("pages", str(c["pages"])),
            ("rate", f"{c['pages'] / elapsed if elapsed > 0 else 0:.1f} pages/s"),
            ("reports", str(c["reports"])),
            ("attachments", str(c["attachments"])),
            ("errors", str(c["errors"])),
            ("retries waiting", f"{stats.get_value(RETRY_WAITING_STAT, 0)} ({stats.get_value('retry/count', 0)} so far)"),
            ("sources", f"{len(self.sources_reached)}/{self.total_sources}"),
            ("current", self.current_source or "-"),
        ]

    def line(self) -> str:
        return "progress: " + ", ".join(f"{label} {value}" for label, value in self.figures())

    def panel(self) -> Panel:
        grid = Table.grid(padding=(0, 1))
        for _ in range(FIGURES_PER_ROW):
            grid.add_column(style="dim")
            grid.add_column(style="bold", min_width=10)
        figures = self.figures()
        for i in range(0, len(figures), FIGURES_PER_ROW):
            grid.add_row(*(text for pair in figures[i:i + FIGURES_PER_ROW] for text in pair))
        return Panel(grid, title=f"crawl {self.crawler.settings.get('CRAWL_RUN_ID', '')}", expand=False)

    def refresh(self):
        if self.live is not None:
            self.live.update(self.panel(), refresh=True)
        else:
            print(self.line(), file=sys.stderr, flush=True)

    def _start_live(self):
        self.live = Live(self.panel(), console=make_console("rich"), auto_refresh=False, redirect_stdout=False)
        self.live.start(refresh=True)
        # Scrapy's log handler holds the stderr it was created with: point it at Live's proxy
        # (now sys.stderr) so that log lines scroll above the panel instead of through it.
        self.rerouted_log_handlers = [h for h in logging.root.handlers
                                      if type(h) is logging.StreamHandler and h.stream is self.stderr]
        for handler in self.rerouted_log_handlers:
            handler.setStream(sys.stderr)

    def _stop_live(self):
        for handler in self.rerouted_log_handlers:
            handler.setStream(self.stderr)
        self.live.update(self.panel())
        self.live.stop()


def summary_table(summary: dict) -> Table:
    """One row per source of a run summary (spiders.archive_pipeline.summarize), totals below."""
    columns = (("pages_fetched", "pages"), ("reports", "reports"), ("attachments", "attachments"),
               ("already_archived", "archived before"), ("errors", "errors"))
    totals = summary["totals"]
    if totals.get("revisited"):  # archived pages asked again (spiders.revisit): how many, how many changed
        columns += (("revisited", "revisited"), ("revisit_changed", "changed"))
    table = Table(title=f"crawl {summary['run_id']} ({summary['finish_reason']})", show_footer=True)
    table.add_column("source", footer="total")
    for key, label in columns:
        table.add_column(label, justify="right", footer=str(totals.get(key, 0)))
    table.add_column("status")
    for source_id, entry in summary["sources"].items():
        status = "[green]ok[/]" if entry["status"] == "ok" else f"[red]{entry['status']}[/]"
        if entry["warnings"]:
            status += f" [yellow]({len(entry['warnings'])} warnings)[/]"
        table.add_row(escape(source_id), *(str(entry.get(key, 0)) for key, _ in columns), status)
    return table


def print_summary(summary: dict, console: Console) -> None:
    console.print(summary_table(summary))
    for source_id, entry in summary["sources"].items():
        for warning in entry["warnings"]:
            console.print(f"[yellow]{escape(source_id)}[/]: {escape(warning)}", highlight=False)
    for host, figures in (summary.get("circuits") or {}).items():
        if figures.get("opened"):
            state = (f"failed {figures['failures_in_a_row']} times in a row" if figures["circuit"] == "open"
                     else "opened, then closed when the host answered again")
            console.print(f"[red]circuit open[/]: host {escape(host)} {state} "
                          f"(last: {escape(str(figures.get('last_error')))}); {figures['skipped']} requests "
                          f"not sent, {figures['attempts']} attempts", highlight=False)
