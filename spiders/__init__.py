"""Acquisition layer: find report pages on government sites and archive every response.

Modules:
    discovery        shared pure heuristics: report titles, URL shapes, link classification (no Scrapy)
    families         one strategy per site family (trs_static, json_api, hanweb_annual_report, generic):
                     the requests that start a source, what each page reads into; the registry (no Scrapy)
    sources          the sources registry (sources.yaml) as dataclasses (no Scrapy)
    gate             which sources a crawl may start on (live crawling opt-in) and crawl run ids (no Scrapy)
    origins          the allow-list rule: which URLs a source's crawl may request (no Scrapy)
    circuit          the per-host circuit breaker (a downloader middleware): dead hosts are cut off
    settings         Scrapy settings profiles: polite (real sites) and loopback (tests, demo)
    report_spider    the Scrapy spider driven by the registry
    archive_pipeline the item pipeline writing bodies and the manifest into warehouse.storage.archive.RawArchive
    run              the subprocess entry point: python -m spiders.run …

Nothing here imports Scrapy at package import time: the CLI and the parser import
spiders.discovery / spiders.sources / spiders.gate without paying for Scrapy and Twisted.
"""
