"""A small demo warehouse built without the crawler, for tests of the analyst commands and the UI.

The demo portal is generated, the HTML report pages of a few agencies (all levels but one, several
regions, all three eras, 2014-2024) are put into a RawArchive with manifest rows as a crawl would
write them, then the real parse stage (`parse_archive`) and build stage (`build_warehouse`) run.
No server, no Scrapy, no Dagster: a few seconds, and independent of the spider.

Use it in a test module with `from tests.warehouse_fixture import demo_warehouse  # noqa: F401`.
The build is cached per pytest session, so several modules share one warehouse.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from warehouse.storage.paths import DataPaths

BASE_URL = "http://127.0.0.1:8765"
# provincial, department (renamed once), prefecture, county (planted review error), county (GBK pages),
# township (GB2312), development zone (early adopter of the 2021 tables)
AGENCIES = ("qcs", "qcs-zrzyt", "lzs", "sxq", "flx", "flx-bsz", "lz-gxq")


@dataclass(frozen=True)
class DemoWarehouse:
    paths: DataPaths
    database: Path
    answer_key: dict
    reports: list[dict]          # the answer-key entries archived (one HTML page each)


_BUILT: dict[str, DemoWarehouse] = {}


def _content_type(report: dict) -> str:
    return f"text/html; charset={report.get('encoding') or 'utf-8'}"


def build_demo_warehouse(root: Path, agencies: tuple[str, ...] = AGENCIES) -> DemoWarehouse:
    from demo_portal.generate import generate_portal
    from warehouse.storage.archive import RawArchive
    from warehouse.stages.build import build_warehouse
    from warehouse.stages.parse_archive import parse_archive

    portal = root / "portal"
    key = generate_portal(portal)
    site = portal / "site"
    paths = DataPaths(root / "data")
    archive = RawArchive(paths.archive)
    rows, chosen = [], []
    fetched = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    for report in key["reports"]:
        if report["agency_id"] not in agencies or report["format"] != "html" or not report["urls"]:
            continue
        url = report["urls"][0]
        body = (site / url.removeprefix("{BASE}/")).read_bytes()
        full_url = url.replace("{BASE}", BASE_URL)
        rows.append(dict(url=full_url, final_url=full_url, status=200, content_type=_content_type(report),
                         encoding=report.get("encoding") or "utf-8", sha256=archive.put(body), size=len(body),
                         fetched_at=fetched + dt.timedelta(seconds=len(rows)), source_id="demo-portal",
                         link_title=report["title"], referer=f"{BASE_URL}/{report['agency_id']}/zfxxgknb/index.html",
                         kind="report", run_id="fixture", error=None))
        chosen.append(report)
    archive.write_manifest(rows, "fixture")
    summary = parse_archive(paths.archive, paths.parsed, portal / "agencies.yaml")
    assert summary.reports == len(chosen), summary.as_dict()
    build_warehouse(paths.parsed, paths.database)
    return DemoWarehouse(paths, paths.database, key, chosen)


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory) -> DemoWarehouse:
    base = str(tmp_path_factory.getbasetemp())
    if base not in _BUILT:
        _BUILT[base] = build_demo_warehouse(tmp_path_factory.mktemp("demo_warehouse"))
    return _BUILT[base]


def answer_key_years(wh: DemoWarehouse, agency_id: str) -> list[int]:
    return sorted({r["report_year"] for r in wh.reports if r["agency_id"] == agency_id})


def dump(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1, default=str)
