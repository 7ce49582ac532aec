"""Acquisition layer: find report pages on government sites and archive every response.

Modules:
    discovery        pure functions: report titles, link classification, JSON list APIs (no Scrapy)
    sources          the sources registry (sources.yaml) as dataclasses (no Scrapy)
    origins          the allow-list rule: which URLs a source's crawl may request (no Scrapy)
    circuit          the per-host circuit breaker (a downloader middleware): dead hosts are cut off
    settings         Scrapy settings profiles: polite (real sites) and loopback (tests, demo)
    report_spider    the Scrapy spider driven by the registry
    archive_pipeline the item pipeline writing bodies and the manifest into warehouse.storage.archive.RawArchive
    run              the subprocess entry point: python -m spiders.run …

Nothing here imports Scrapy at package import time: the CLI and the parser import
spiders.discovery / spiders.sources without paying for Scrapy and Twisted.
"""
