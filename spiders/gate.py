"""Which sources a crawl may start on, and the id of each crawl run: one home for the CLI and Dagster.

Live crawling is opt-in: a source whose URLs are not all on this machine (Source.is_local) is
crawled only when the caller allows it (Dagster's live_crawl setting) or LIVE_CRAWL_ENV is 1.
No Scrapy here.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence
from uuid import uuid4

from spiders.sources import Source

# Set to 1 to let a crawl started by Dagster or `disclosure crawl` reach sites that are not local.
LIVE_CRAWL_ENV = "DISCLOSURE_LIVE_CRAWL"


def new_run_id(prefix: str | None = None) -> str:
    """A crawl run id: UTC time to the second and a random suffix (two runs in one second differ),
    after `prefix` when given (Dagster: the start of its run id)."""
    run_id = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid4().hex[:6]}"
    return f"{prefix}-{run_id}" if prefix else run_id


def live_crawl_allowed(allowed: bool = False) -> bool:
    """Whether real sites may be crawled: allowed by the caller, or LIVE_CRAWL_ENV=1."""
    return allowed or os.environ.get(LIVE_CRAWL_ENV) == "1"


@dataclass(frozen=True)
class CrawlGate:
    sources: tuple[Source, ...]   # the sources the crawl may start on (none when refused)
    refused: str | None           # why nothing is crawled: "no enabled sources" or "live crawling off"
    live: tuple[str, ...]         # ids of the sources that are not on this machine

    @property
    def message(self) -> str:
        """One line for the user when refused."""
        if self.refused == "live crawling off":
            return (f"not crawling live sites {', '.join(self.live)} (entry URLs not on this machine); "
                    f"set {LIVE_CRAWL_ENV}=1 to crawl them")
        return f"not crawling: {self.refused}" if self.refused else ""


def crawl_gate(sources: Sequence[Source], *, live_allowed: bool = False) -> CrawlGate:
    """Given the loaded sources (spiders.sources.load_sources) and whether the caller allows live
    crawling (LIVE_CRAWL_ENV=1 allows it too): the sources that may be crawled, or why none."""
    live = tuple(sorted(s.id for s in sources if not s.is_local))
    if not sources:
        return CrawlGate((), "no enabled sources", live)
    if live and not live_crawl_allowed(live_allowed):
        return CrawlGate((), "live crawling off", live)
    return CrawlGate(tuple(sources), None, live)
