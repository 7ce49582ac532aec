"""One pipeline stage in this (child) process, for timing and peak memory:

    python -m benchmarks.stages parse ARCHIVE PARSED REGISTRY
    python -m benchmarks.stages build PARSED DB
    python -m benchmarks.stages bare-crawl BASE_URL

Prints one JSON line last: {"seconds": …, "vmhwm_mb": …, …}. VmHWM is this process's peak
resident set (from /proc/self/status), imports included.
"""
from __future__ import annotations

import json
import sys
import time


def vmhwm_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def stage_parse(archive: str, parsed: str, registry: str) -> dict:
    from warehouse.stages.parse_archive import parse_archive

    t0 = time.perf_counter()
    summary = parse_archive(archive, parsed, registry)
    return {"seconds": time.perf_counter() - t0, **summary.as_dict()}


def stage_build(parsed: str, db: str) -> dict:
    from warehouse.stages.build import build_warehouse

    t0 = time.perf_counter()
    stats = build_warehouse(parsed, db)
    return {"seconds": time.perf_counter() - t0, "models": stats}


def stage_bare_crawl(base_url: str) -> dict:
    """A bare Scrapy spider that only follows links (no archive pipeline, no HTTP cache),
    with the concurrency settings of spiders.settings' loopback profile."""
    import scrapy
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess
    from scrapy.http import TextResponse

    from spiders.settings import crawl_settings

    host = base_url.split("//", 1)[1].split(":")[0]
    settings = crawl_settings("loopback", ITEM_PIPELINES={}, HTTPCACHE_ENABLED=False)
    times: dict[str, float] = {}

    class BareSpider(scrapy.Spider):
        name = "bare"
        allowed_domains = [host]
        start_urls = [base_url.rstrip("/") + "/"]

        @classmethod
        def from_crawler(cls, crawler, *args, **kwargs):
            spider = super().from_crawler(crawler, *args, **kwargs)
            crawler.signals.connect(spider.on_open, signal=signals.spider_opened)
            return spider

        def on_open(self, spider):
            times.setdefault("open", time.perf_counter())

        def closed(self, reason):
            times.setdefault("close", time.perf_counter())

        def parse(self, response):
            if isinstance(response, TextResponse) and b"html" in (response.headers.get(b"Content-Type") or b""):
                for href in response.css("a::attr(href)").getall():
                    if not href.startswith(("javascript:", "mailto:", "#")):
                        yield response.follow(href, callback=self.parse)

    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    return {"seconds": times["close"] - times["open"], "pages": stats.get("response_received_count", 0),
            "status_counts": {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("downloader/response_status_count/")}}


def main(argv: list[str]) -> int:
    t0 = time.perf_counter()
    stage, args = argv[0], argv[1:]
    result = {"parse": stage_parse, "build": stage_build, "bare-crawl": stage_bare_crawl}[stage](*args)
    result["wall_in_process"] = time.perf_counter() - t0
    result["vmhwm_mb"] = vmhwm_mb()
    print(json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
