"""Retries with exponential backoff: Scrapy's RetryMiddleware, but a retry waits before it
is sent again.

The wait for retry n (1 for the first) is RETRY_BACKOFF_BASE × 2^(n-1) × a jitter factor
in [1, 1.5), capped at RETRY_BACKOFF_MAX. A 429 or 503 whose Retry-After gives seconds
waits at least that long (also capped: a server asking for an hour does not stall the
crawl for an hour). RETRY_BACKOFF_BASE 0 (the default) retries at once, as Scrapy does.

The wait is a coroutine sleep inside process_response/process_exception: the reactor keeps
serving every other request. While it waits, the request still counts towards
CONCURRENT_REQUESTS (the downloader holds it) but no longer towards its site's
CONCURRENT_REQUESTS_PER_DOMAIN; it also keeps the spider open, so a crawl never closes with
retries pending. Retry stats (retry/count, retry/reason_count/…, retry/max_reached) and the
give-up behaviour are Scrapy's; RETRY_WAITING_STAT counts the retries waiting right now.
"""
from __future__ import annotations

import logging
import random
from typing import Callable

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response
from scrapy.utils.asyncio import sleep

logger = logging.getLogger(__name__)

RETRY_WAITING_STAT = "retry/waiting"
RETRY_AFTER_STATUSES = frozenset({429, 503})  # the statuses RFC 9110 gives Retry-After a meaning for


def backoff_delay(attempt: int, base: float, cap: float, retry_after: float | None = None,
                  jitter: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry number `attempt` (1 for the first). The jitter factor
    stays below 1.5 so that each wait is longer than the one before, until the cap."""
    delay = min(cap, base * 2 ** (attempt - 1) * (1 + jitter() / 2))
    if retry_after is not None:
        delay = max(delay, min(cap, retry_after))
    return delay


def retry_after_seconds(response: Response) -> float | None:
    """The Retry-After of a 429/503 when it gives seconds (an HTTP date is ignored)."""
    if response.status not in RETRY_AFTER_STATUSES:
        return None
    value = (response.headers.get(b"Retry-After") or b"").strip()
    return float(value) if value.isdigit() else None


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings):
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE")
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX")

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await self._wait(result, retry_after_seconds(response))
        return result

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await self._wait(result)
        return result

    async def _wait(self, retry: Request, retry_after: float | None = None) -> None:
        delay = backoff_delay(retry.meta["retry_times"], self.backoff_base, self.backoff_max, retry_after)
        if delay <= 0:
            return
        logger.debug("Retrying %(request)s in %(delay).1f s", {"request": retry, "delay": delay})
        stats = self.crawler.stats
        stats.inc_value(RETRY_WAITING_STAT)
        try:
            await sleep(delay)
        finally:
            stats.inc_value(RETRY_WAITING_STAT, -1)
