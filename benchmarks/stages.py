"""One pipeline stage in this (child) process, for timing and peak memory:

    python -m benchmarks.stages parse ARCHIVE PARSED REGISTRY
    python -m benchmarks.stages build PARSED DB
    python -m benchmarks.stages bare-crawl BASE_URL
    python -m benchmarks.stages pdf-tables [PDF ...]

pdf-tables: PDF table-era reports read by warehouse.parse.pdf (pdfium words and rulings through
warehouse.parse.layout) and by the pdfplumber pass it replaced, in CPU seconds per report of
this process (best of 3 rounds; wall time is noisy on a shared host), with the per-step split
of the new reader. Default PDFs: the real table-era PDFs of ../shared/corpus and the demo
portal's generated table PDFs (demo_portal.pdf). Never a CI gate.

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


def _default_pdfs() -> list[str]:
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    corpus = root.parent / "shared" / "corpus"
    paths = sorted(str(p) for p in corpus.glob("*.pdf")) if corpus.is_dir() else []
    demo = root / "data" / "demo" / "portal" / "site"
    paths += sorted(str(p) for p in demo.rglob("*.pdf")) if demo.is_dir() else []
    return paths


def _cpu_per_report(fn, datas: list[bytes], rounds: int = 3, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.process_time()
        for _ in range(repeat):
            for data in datas:
                fn(data)
        best = min(best, (time.process_time() - t0) / repeat / len(datas))
    return best


def _pdfplumber_pass(data: bytes) -> None:
    """What the reader did before: pdfplumber's page text and table finder over ruling lines."""
    import io

    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            page.extract_text()
            for table in page.find_tables({"vertical_strategy": "lines", "horizontal_strategy": "lines"}):
                table.extract()


def _pdf_steps(datas: list[bytes]) -> dict:
    """CPU ms per report of each step of warehouse.parse.pdf.load_pdf."""
    import io

    import pypdfium2 as pdfium
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser

    from warehouse.parse import layout, pdf
    from warehouse.parse.documents import DEFAULT_LIMITS

    steps = dict.fromkeys(("checks_pdfminer", "pdfium_pages", "words", "rulings", "text", "grids"), 0.0)

    def timed(step, fn, *args):
        t0 = time.process_time()
        out = fn(*args)
        steps[step] += time.process_time() - t0
        return out

    for data in datas:
        def checks():
            doc = PDFDocument(PDFParser(io.BytesIO(data)))
            for page_obj in pdf._pdf_pages(doc):
                pdf._pdf_page_content_bytes(page_obj)
        timed("checks_pdfminer", checks)
        document = timed("pdfium_pages", pdfium.PdfDocument, data)
        for index in range(len(document)):
            page = timed("pdfium_pages", document.__getitem__, index)
            top = page.get_mediabox()[3]
            textpage = timed("pdfium_pages", page.get_textpage)
            api = pdf._pdfium_api()
            words = timed("words", pdf._page_words, api, api.handle(textpage.raw), top)
            rulings: list = []
            timed("rulings", pdf._page_paths, api, api.handle(page.raw), top, rulings, 10**6)
            timed("text", layout.page_text, words)
            timed("grids", layout.table_grids, words, rulings, DEFAULT_LIMITS, [])
            textpage.close()
            page.close()
        document.close()
    return {step: round(seconds / len(datas) * 1000, 2) for step, seconds in steps.items()}


def _page_count(data: bytes) -> int:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        return len(document)
    finally:
        document.close()


def stage_pdf_tables(*paths: str) -> dict:
    from pathlib import Path

    from warehouse.parse import parse_bytes
    from warehouse.parse.pdf import load_pdf

    paths = list(paths) or _default_pdfs()
    groups: dict[str, list[bytes]] = {}
    for path in paths:
        data = Path(path).read_bytes()
        try:
            doc = load_pdf(data)
        except Exception:  # noqa: BLE001 - not a readable PDF: not a table report to time
            continue
        if len(doc.tables) < 2 or any(t.ocr for t in doc.tables) or any("OCR" in n for n in doc.notes):
            continue  # prose-era or image-only (OCR has its own bench): not what this bench is about
        groups.setdefault("real" if "/shared/corpus/" in path else "demo", []).append(data)
    result: dict = {"stage": "pdf-tables"}
    for group, datas in groups.items():
        parse = _cpu_per_report(lambda d: parse_bytes(d, "report.pdf"), datas)
        new = _cpu_per_report(load_pdf, datas, repeat=3)
        try:
            old = _cpu_per_report(_pdfplumber_pass, datas, rounds=2)
        except ImportError:
            old = float("nan")
        result[group] = {
            "reports": len(datas), "pages": sum(_page_count(d) for d in datas),
            "read_cpu_ms": round(new * 1000, 1), "parse_cpu_ms": round(parse * 1000, 1),
            "parse_reports_per_s_per_core": round(1 / parse, 1),
            "pdfplumber_pass_cpu_ms": round(old * 1000, 1), "read_speedup": round(old / new, 1),
            "steps_cpu_ms": _pdf_steps(datas),
        }
    return result


def main(argv: list[str]) -> int:
    t0 = time.perf_counter()
    stage, args = argv[0], argv[1:]
    result = {"parse": stage_parse, "build": stage_build, "bare-crawl": stage_bare_crawl,
              "pdf-tables": stage_pdf_tables}[stage](*args)
    result["wall_in_process"] = time.perf_counter() - t0
    result["vmhwm_mb"] = vmhwm_mb()
    print(json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
