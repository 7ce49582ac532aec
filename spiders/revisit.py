"""Polite revisits of archived report pages and attachments (no Scrapy here: spiders.run plans, the spider asks).

Reports are edited in place without notice, so an archived report or attachment URL whose latest
fetch is at least `revisit_days` old is requested again, straight from the manifest (it need not be
listed any more): conditionally when the server sent validators (If-None-Match from `etag`,
If-Modified-Since from `last_modified`; manifests written before these columns lack them). A 304
keeps the body archived before (its row points at that body's sha256); a new body is stored as a
new fetch of the URL: the raw archive is content-addressed, so the old body stays and each run's
manifest row names the body it got. 0 days = every run; the default is 30 days (nightly runs
revisit each report about monthly).

Revisits are spread out: a URL falls due between `revisit_days` and a quarter more after its latest
fetch, at a point fixed by a hash of the URL, so the reports a first big crawl archived in one night
are not all asked for again on one night a month later, and stay spread from then on.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Iterable

DEFAULT_REVISIT_DAYS = 30.0
REVISIT_SPREAD = 0.25      # a URL falls due between revisit_days and (1 + REVISIT_SPREAD) × revisit_days
REVISITED_KINDS = ("report", "attachment")
MANIFEST_COLUMNS = ("url", "status", "kind", "sha256", "size", "fetched_at", "source_id", "link_title", "referer",
                    "error", "etag", "last_modified")


@dataclass(frozen=True)
class Revisit:
    """An archived URL due for a revisit, with what its latest fetches said."""
    url: str
    kind: str
    source_id: str | None
    sha256: str                 # the body archived by its latest 200
    size: int | None
    last_fetched: datetime      # its latest answer
    link_title: str | None = None
    referer: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        """The conditional request headers the validators allow (none when the manifest kept none)."""
        out = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


def plan_revisits(rows: Iterable[dict], revisit_days: float, now: datetime) -> dict[str, Revisit]:
    """The archived report/attachment URLs (a 200 with a body once) whose latest fetch (any answer) is at least
    `revisit_days` (and the URL's share of the spread) before `now`, by URL. Rows are manifest rows (any
    order; missing columns are None)."""
    latest_ok: dict[str, dict] = {}     # url -> its latest 200 with a body
    latest_seen: dict[str, dict] = {}   # url -> its latest answer (200, 304, 404 …)
    for row in rows:
        if row.get("kind") not in REVISITED_KINDS or row.get("fetched_at") is None:
            continue
        status, url = row.get("status"), row["url"]
        if status == 200 and row.get("sha256"):
            if url not in latest_ok or row["fetched_at"] >= latest_ok[url]["fetched_at"]:
                latest_ok[url] = row
        if status is not None:  # any answer counts as a fetch (a 404 is not asked again every run)
            if url not in latest_seen or row["fetched_at"] >= latest_seen[url]["fetched_at"]:
                latest_seen[url] = row
    due = {}
    for url, ok in latest_ok.items():
        seen = latest_seen[url]
        if seen["fetched_at"] > now - timedelta(days=revisit_days * (1 + REVISIT_SPREAD * spread_of(url))):
            continue
        validators = seen if seen.get("status") in (200, 304) and (seen.get("etag") or seen.get("last_modified")) else ok
        due[url] = Revisit(url=url, kind=ok["kind"], source_id=ok.get("source_id"), sha256=ok["sha256"],
                           size=ok.get("size"), last_fetched=seen["fetched_at"], link_title=ok.get("link_title"),
                           referer=ok.get("referer"), etag=validators.get("etag"),
                           last_modified=validators.get("last_modified"))
    return due


def spread_of(url: str) -> float:
    """A number in [0, 1) fixed by the URL (the same in every run and on every machine)."""
    return int.from_bytes(hashlib.sha256(url.encode("utf-8")).digest()[:8], "big") / 2 ** 64


def pages_to_fetch_again(rows: Iterable[dict], may_answer_later: Callable[[int | None, str | None], bool]) -> set[str]:
    """Archived report pages with a link (an attachment, an image) that was never fetched and whose last
    try failed in a way another run may not meet (`may_answer_later(status, error)`): an archived page is
    otherwise not requested again, so its links would never be asked for again (a crawl that lost its
    server midway). Rows are manifest rows, any order."""
    rows = [r for r in rows if r.get("kind") in REVISITED_KINDS]
    fetched = {r["url"] for r in rows if r.get("status") == 200 and r.get("sha256")}
    last_try: dict[str, dict] = {}
    for row in rows:
        if row["url"] not in fetched and row.get("referer") and row.get("fetched_at") is not None:
            if row["url"] not in last_try or row["fetched_at"] >= last_try[row["url"]]["fetched_at"]:
                last_try[row["url"]] = row
    return {row["referer"] for row in last_try.values()
            if row["referer"] in fetched and may_answer_later(row.get("status"), row.get("error"))}


def manifest_rows_for_revisits(archive) -> list[dict]:
    """The manifest columns plan_revisits and pages_to_fetch_again read, all runs."""
    from warehouse.storage.arrow import table_rows

    return table_rows(archive.read_manifest().select(list(MANIFEST_COLUMNS)))
