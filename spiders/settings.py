"""Scrapy settings profiles, as plain dicts (no Scrapy import).

- polite: real government sites. robots.txt obeyed, a user agent naming the project
  and a contact URL, one second between requests and AutoThrottle on top, two
  requests at a time per site, no cookies, 3 retries on 5xx/408/429/timeouts, waiting
  2 s, 4 s, 8 s (jittered, at most 60 s; longer when Retry-After asks for it).
- loopback: the local test and demo sites. No delays, short timeout (Scrapy waits
  DOWNLOAD_TIMEOUT out on shutdown), 16 requests at a time per domain, retries after
  0.2 s, 0.4 s, 0.8 s (at most 1 s). robots.txt is still obeyed, so tests exercise it.

Scrapy's own RetryMiddleware retries immediately (it has no backoff setting): it is
replaced by spiders.retry.BackoffRetryMiddleware, which waits without holding up the
other requests of the crawl (RETRY_BACKOFF_BASE, RETRY_BACKOFF_MAX).

HOST_FAILURE_LIMIT: a host whose requests fail at the connection level (refused, DNS, timeout,
reset) this many times in a row is cut off for the rest of the run (spiders.circuit: its other
requests are recorded, not sent; 0 switches this off).

CRAWL_PROGRESS ("off", "plain" or "rich", set by spiders.run) switches on the progress
display of spiders.progress; CRAWL_PROGRESS_INTERVAL is the seconds between plain lines.
"""
from __future__ import annotations

import os

DEFAULT_USER_AGENT = "disclosure-warehouse/0.1 (+https://example.org/disclosure-warehouse)"
USER_AGENT_ENV = "DISCLOSURE_USER_AGENT"  # set it to name your deployment and a contact

MB = 1024 * 1024

COMMON: dict = {
    "BOT_NAME": "disclosure-warehouse",
    "ROBOTSTXT_OBEY": True,
    "COOKIES_ENABLED": False,
    "RETRY_ENABLED": True,
    "RETRY_TIMES": 3,  # 1 request + 3 retries; RETRY_HTTP_CODES default: 500 502 503 504 522 524 408 429
    "DOWNLOADER_MIDDLEWARES": {
        "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
        "spiders.retry.BackoffRetryMiddleware": 550,  # Scrapy's slot for RetryMiddleware
        # after HttpCacheMiddleware (900): sees the network's outcomes, before the retries see them
        "spiders.circuit.HostCircuitBreakerMiddleware": 950,
    },
    "HOST_FAILURE_LIMIT": 5,
    # Scrapy starts CONCURRENT_ITEMS (default 100) tasks for the output of every callback and
    # errback; the archive pipeline is synchronous, so they buy nothing and cost ~2 ms each time
    # (a host cut off with 2 000 links queued: 2 000 errbacks).
    "CONCURRENT_ITEMS": 4,
    "RETRY_BACKOFF_BASE": 2.0,   # seconds before the first retry, doubled for each next one
    "RETRY_BACKOFF_MAX": 60.0,   # cap of a wait, Retry-After included
    "DOWNLOAD_MAXSIZE": 50 * MB,
    "DOWNLOAD_WARNSIZE": 20 * MB,
    "DEPTH_LIMIT": 5,  # entry → column → page N → report → attachment, with one hop to spare
    "FEED_EXPORT_ENCODING": "utf-8",
    "TELNETCONSOLE_ENABLED": False,
    # Scrapy ≥2.19 starts an HTTP server that executes Python sent to it (for its MCP
    # server) unless told not to; a crawler of third-party sites has no use for it.
    "REMOTE_CONTROL_ENABLED": False,
    "DNSCACHE_ENABLED": True,
    "DNS_TIMEOUT": 20,
    # Conditional requests for listing pages (report requests carry dont_cache: the raw
    # archive keeps their bodies). HTTPCACHE_DIR is set per archive by spiders.run.
    "HTTPCACHE_ENABLED": True,
    "HTTPCACHE_POLICY": "scrapy.extensions.httpcache.RFC2616Policy",
    "HTTPCACHE_IGNORE_HTTP_CODES": list(range(400, 600)),
    "ITEM_PIPELINES": {"spiders.archive_pipeline.ArchivePipeline": 300},
    "EXTENSIONS": {"spiders.progress.CrawlProgress": 500},
    "CRAWL_PROGRESS": "off",
    "CRAWL_PROGRESS_INTERVAL": 10.0,
    "LOG_LEVEL": "INFO",
}

PROFILES: dict[str, dict] = {
    "polite": {
        **COMMON,
        "DOWNLOAD_DELAY": 1.0,
        "RANDOMIZE_DOWNLOAD_DELAY": True,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 1.0,
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "CONCURRENT_REQUESTS": 16,  # across sites; the per-site cap is what counts
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "DOWNLOAD_TIMEOUT": 30,
    },
    "loopback": {
        **COMMON,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS": 32,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
        "DOWNLOAD_TIMEOUT": 5,
        "RETRY_BACKOFF_BASE": 0.2,
        "RETRY_BACKOFF_MAX": 1.0,
        "LOG_LEVEL": "WARNING",
    },
}


def crawl_settings(profile: str = "polite", user_agent: str | None = None, **overrides) -> dict:
    """The settings of a profile; the user agent comes from the argument, else the
    DISCLOSURE_USER_AGENT environment variable, else the placeholder."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {sorted(PROFILES)}")
    return {
        **PROFILES[profile],
        "USER_AGENT": user_agent or os.environ.get(USER_AGENT_ENV) or DEFAULT_USER_AGENT,
        **overrides,
    }
