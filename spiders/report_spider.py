"""The Scrapy spider: from each source's entry URLs to its report pages and attachments.

Every response becomes one item carrying the manifest fields of
warehouse.storage.schemas.RAW_MANIFEST_SCHEMA plus the body (the archive pipeline stores the
body and keeps the row). Error statuses reach the callback (handle_httpstatus_list)
and failures the errback, so a 404, a 500 after its retries, a timeout or a URL
forbidden by robots.txt all leave a row.

What a source's crawl requests first and what it follows from each page is its site family's
(spiders.families: family_for(source)); by the kind of page (kinds as in the manifest):
    listing    → report pages, the column's next pages (pagination links, the list API's next page),
                 report columns, attachments titled as reports
    report     → attachments, other report pages it links to (year switches)
    attachment → nothing
Partial walks: for the sources in `partial_walk_sources` (the nightly runs between full walks,
see spiders.run), a listing page whose reports are all archived and listed newest first
ends the paging of its column (its pagination links, or the API's next page, are not
requested): the pages after it list older reports, archived too. Such a source's summary
says listing_walk "partial", and its reach is then not compared (spiders.health).
Revisits (spiders.revisit): archived report pages and attachments due a revisit (`revisits`, planned
by spiders.run from the manifest) are requested again at the start, conditionally when their
validators were kept; a 304 leaves a row pointing at the body archived before, a new body is archived
as a new fetch of the URL. Links to them found on the walk are not requested twice.
Only URLs on the source's allow-list are followed (spiders.origins: the origins — scheme, host,
port — of its entry URLs and allowed_domains; http and https only), links and redirects alike:
a report, attachment, column or pagination link off it is not requested but leaves a manifest
row, error "Offsite: not followed, <why>", as a redirect off it does ("IgnoreRequest: redirected
off the allow-list …"). DEPTH_LIMIT bounds the rest (a link beyond it is not requested but leaves
a manifest row, error "DepthLimit: …", where Scrapy's DepthMiddleware would drop it without a trace).
A host that fails at the connection level HOST_FAILURE_LIMIT times in a row is cut off for the
rest of the run (spiders.circuit): its requests leave rows "IgnoreRequest: circuit open: …".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable
from urllib.parse import urljoin

import scrapy
from scrapy.http import FormRequest, Request, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError

from spiders.circuit import CIRCUIT_META
from spiders.discovery import Link, RefusedLink, listed_newest_first
from spiders.families import family_for
from spiders.families.base import Fetch, Page
from spiders.sources import Source

# Statuses handed to the callback instead of being dropped by HttpErrorMiddleware.
# 3xx stay out so that RedirectMiddleware still follows redirects.
RECORDED_ERROR_STATUSES = list(range(400, 600))
HTML_TYPES = (b"text/html", b"application/xhtml")
TEXT_TYPES = (b"text/", b"application/xhtml", b"application/json", b"application/xml", b"application/javascript")
OFFSITE_ERROR = "Offsite: not followed"  # a link off the allow-list (a policy, not a failed fetch)
REDIRECT_REFUSED = "IgnoreRequest: redirected off the allow-list"
MAX_RECORDED_URL = 2048  # a refused data: URL can be megabytes long: its row keeps the beginning


def _content_type(response: Response) -> bytes:
    return (response.headers.get(b"Content-Type") or b"").lower()


def _is_text(response: Response | None) -> bool:
    """Text worth an encoding in the manifest (Scrapy also makes TextResponses of
    PDFs served with a text-looking body)."""
    return isinstance(response, TextResponse) and _content_type(response).startswith(TEXT_TYPES)


@dataclass
class ColumnReach:
    """What a source's columns said about themselves, against what the crawl found."""
    declared_items: int | None = None   # largest item count a listing page declared
    report_links: set[str] = field(default_factory=set)
    already_archived: set[str] = field(default_factory=set)  # report/attachment links not fetched again
    listings_followed: set[str] = field(default_factory=set)
    held_back: set[str] = field(default_factory=set)  # pagination links (or API pages) not followed here

    @property
    def pages_not_walked(self) -> int:
        """Listing pages held back and not reached through another page either: a partial walk."""
        return len(self.held_back - self.listings_followed)

    def declare(self, count: int | None) -> None:
        if count is not None:
            self.declared_items = max(self.declared_items or 0, count)


def manifest_row(request: Request, response: Response | None, *, run_id: str,
                 kind: str | None = None, source_id: str | None = None, error: str | None = None) -> dict[str, Any]:
    """One manifest row (without sha256/size, which the archive fills in) plus the body."""
    meta = request.meta
    redirects = meta.get("redirect_urls") or []
    content_type = response.headers.get(b"Content-Type") if response is not None else None
    etag = response.headers.get(b"ETag") if response is not None else None
    last_modified = response.headers.get(b"Last-Modified") if response is not None else None
    return {
        "url": redirects[0] if redirects else request.url,
        "final_url": response.url if response is not None else None,
        "status": response.status if response is not None else None,
        "content_type": content_type.decode("latin-1") if content_type else None,
        "encoding": response.encoding if _is_text(response) else None,
        "fetched_at": datetime.now(timezone.utc),
        "source_id": source_id or meta.get("source_id"),
        "link_title": meta.get("link_title"),
        "referer": meta.get("referer"),
        "kind": kind or meta.get("kind", "other"),
        "run_id": run_id,
        "error": error,
        "body": response.body if response is not None else None,
        # validators of the body (read by spiders.revisit)
        "etag": etag.decode("latin-1") if etag else None,
        "last_modified": last_modified.decode("latin-1") if last_modified else None,
        "revisit_of": meta.get("revisit_of"),   # the sha256 archived before, on a revisit
    }


def _clip(url: str) -> str:
    return url if len(url) <= MAX_RECORDED_URL else f"{url[:MAX_RECORDED_URL]}…[{len(url)} characters]"


def refused_row(url: str, *, run_id: str, source_id: str, kind: str, link_title: str | None,
                referer: str | None, error: str) -> dict[str, Any]:
    """The manifest row of a URL not requested by policy (no Request may exist for it: file:, data: …)."""
    return {
        "url": _clip(url), "final_url": None, "status": None, "content_type": None, "encoding": None,
        "fetched_at": datetime.now(timezone.utc), "source_id": source_id, "link_title": link_title or None,
        "referer": referer, "kind": kind, "run_id": run_id, "error": error, "body": None,
    }


class ReportSpider(scrapy.Spider):
    name = "reports"

    def __init__(self, sources: Iterable[Source], run_id: str, known_urls: Iterable[str] = (),
                 partial_walk_sources: Iterable[str] = (), revisits: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.sources: dict[str, Source] = {s.id: s for s in sources}
        self.run_id = run_id
        # Report pages and attachments archived by earlier runs: published reports don't change
        # in place (a correction is a new page), so a nightly run fetches only new links.
        self.known_urls = frozenset(known_urls)
        # ... except those due a revisit (spiders.revisit.Revisit by URL): requested again at the start
        self.revisits: dict = dict(revisits or {})
        self.partial_walk_sources = frozenset(partial_walk_sources)
        # Scrapy's OffsiteMiddleware (hosts only) as a coarse net; each source's own allow-list
        # (spiders.origins: scheme, host and port) is applied in _follow and refuse_redirect
        self.allowed_domains = sorted({host for s in self.sources.values() for host in s.allow.hosts})
        self.reach: dict[str, ColumnReach] = {source_id: ColumnReach() for source_id in self.sources}
        self.depth_cut: set[str] = set()  # links recorded as beyond DEPTH_LIMIT
        self.refused: set[tuple[str, str]] = set()  # (source id, URL) recorded as off the allow-list

    def source_for_url(self, url: str) -> Source | None:
        return next((s for s in self.sources.values() if s.allow.allows(url)), None)

    async def start(self):
        for source in self.sources.values():
            for fetch in family_for(source).start(source):
                yield self._fetch_request(fetch, source, referer=None)
        for revisit in self.revisits.values():
            source = self.sources.get(revisit.source_id)
            if source is None or source.allow.refusal(revisit.url) is not None:
                continue  # a source not crawled this run, or a URL its allow-list no longer admits
            yield self._request(revisit.url, source, revisit.kind, link_title=revisit.link_title,
                                referer=revisit.referer)

    # --- requests ---------------------------------------------------------------

    def _meta(self, source: Source, kind: str, link_title: str | None, referer: str | None) -> dict:
        return {
            "source_id": source.id,
            "kind": kind,
            "link_title": link_title,
            "referer": referer,
            "handle_httpstatus_list": RECORDED_ERROR_STATUSES,
        }

    def _request(self, url: str, source: Source, kind: str, *, link_title: str | None = None,
                 referer: str | None = None) -> Request:
        meta = self._meta(source, kind, link_title, referer)
        headers = {"Referer": referer} if referer else {}
        revisit = self.revisits.get(url) if kind in ("report", "attachment") else None
        if revisit is not None:
            headers.update(revisit.headers())
            meta["revisit_of"], meta["revisit_size"] = revisit.sha256, revisit.size
            meta["handle_httpstatus_list"] = RECORDED_ERROR_STATUSES + [304]
        if kind == "listing":
            # Listings change: always revalidate (a conditional request when the HTTP cache holds it).
            headers["Cache-Control"] = "no-cache"
        else:
            meta["dont_cache"] = True  # bodies live in the raw archive, not twice in the HTTP cache
        return Request(url, callback=self.parse_page, errback=self.on_failure, meta=meta, headers=headers)

    def _fetch_request(self, fetch: Fetch, source: Source, referer: str | None) -> Request:
        """The request of a family's Fetch: a page to GET, or a list API page to POST."""
        if fetch.form is None:
            request = self._request(fetch.url, source, fetch.kind, link_title=fetch.title, referer=referer)
        else:  # a list API page: the referer is not sent nor recorded (its manifest row names none)
            request = FormRequest(fetch.url, formdata=fetch.form, callback=self.parse_page, errback=self.on_failure,
                                  meta=self._meta(source, fetch.kind, fetch.title, None))
        if fetch.reads != "html":
            request.meta["reads"] = fetch.reads
        if fetch.list_page is not None:
            request.meta["list_page"] = fetch.list_page
        return request

    def _follow(self, response: Response, source: Source, links: Iterable[Link | str], kind: str):
        depth = response.meta.get("depth", 0) + 1
        depth_limit = self.settings.getint("DEPTH_LIMIT") if getattr(self, "settings", None) else 0
        for link in links:
            url, title = (link.url, link.title) if isinstance(link, Link) else (link, None)
            refusal = source.allow.refusal(url)
            if refusal is not None:
                yield from self._refuse(source, RefusedLink(url, title or "", kind, refusal), response.url)
                continue
            if kind in ("report", "attachment") and url in self.known_urls and url not in self.revisits:
                self.reach[source.id].already_archived.add(url)
                continue
            try:
                request = self._request(url, source, kind, link_title=title, referer=response.url)
            except ValueError as exc:  # a URL Scrapy cannot request
                refusal = f"not a valid URL ({exc})"
            else:  # the URL as Scrapy normalised it is the one its downloader would connect to
                refusal = source.allow.refusal(request.url) if request.url != url else None
            if refusal is not None:
                yield from self._refuse(source, RefusedLink(url, title or "", kind, refusal), response.url)
                continue
            if kind == "listing":
                self.reach[source.id].listings_followed.add(url)
            if depth_limit and depth > depth_limit:
                # endless pagination and link mazes end here: record the cut instead of
                # letting DepthMiddleware drop the request silently
                if url not in self.depth_cut:
                    self.depth_cut.add(url)
                    yield manifest_row(request, None, run_id=self.run_id,
                                       error=f"DepthLimit: not followed, depth {depth} > DEPTH_LIMIT {depth_limit}")
                continue
            yield request

    def _refuse(self, source: Source, link: RefusedLink, referer: str):
        """The manifest row of a link off the allow-list, once per source and URL in a run."""
        if (source.id, link.url) in self.refused:
            return
        self.refused.add((source.id, link.url))
        yield refused_row(link.url, run_id=self.run_id, source_id=source.id, kind=link.kind,
                          link_title=link.title, referer=referer, error=f"{OFFSITE_ERROR}, {link.reason}")

    # --- callbacks --------------------------------------------------------------

    def _row(self, response: Response, **extra) -> dict:
        return manifest_row(response.request, response, run_id=self.run_id, **extra)

    def parse_page(self, response: Response):
        if response.status == 304 and response.meta.get("revisit_of"):
            # not modified: the row points at the body archived before (none is stored again)
            yield {**self._row(response), "body": None, "sha256": response.meta["revisit_of"],
                   "size": response.meta.get("revisit_size")}
            return
        yield self._row(response)
        kind = response.meta["kind"]
        reads = response.meta.get("reads", "html")
        if (response.status != 200 or kind == "attachment"
                or (reads == "html" and not self._is_html(response))):
            return
        source = self.sources[response.meta["source_id"]]
        listing = family_for(source).read(source, Page(url=response.url, text=response.text, kind=kind,
                                                       reads=reads, list_page=response.meta.get("list_page")))
        for refused in listing.refused:
            yield from self._refuse(source, refused, response.url)
        if kind == "listing":
            reach = self.reach[source.id]
            reach.declare(listing.declared_items)
            reach.report_links.update(link.url for link in listing.reports)
            next_pages = listing.next_pages
            if next_pages and self._nothing_new_beyond(source, listing.reports + listing.attachments):
                reach.held_back.update(fetch.key for fetch in next_pages)
                next_pages = []
            yield from self._follow(response, source, listing.reports, "report")
            for fetch in next_pages:
                if fetch.form is None:  # a pagination link: followed like any link
                    yield from self._follow(response, source, [fetch.url], "listing")
                else:
                    yield self._fetch_request(fetch, source, referer=None)
            yield from self._follow(response, source, listing.columns, "listing")
            yield from self._follow(response, source, listing.attachments, "attachment")
        elif kind == "report":
            yield from self._follow(response, source, listing.attachments, "attachment")
            yield from self._follow(response, source, listing.reports, "report")

    def _nothing_new_beyond(self, source: Source, listed: list[Link]) -> bool:
        """Whether a listing page says its column's later pages hold nothing new: a partial walk is
        allowed for the source, and the page lists reports, all archived, newest first."""
        return (source.id in self.partial_walk_sources and bool(listed)
                and all(link.url in self.known_urls for link in listed) and listed_newest_first(listed))

    def on_failure(self, failure):
        """Timeouts, refused connections, the size cap, robots.txt: a row without a body."""
        request = failure.request
        response = getattr(failure.value, "response", None)
        error = self._describe(failure.value, request)
        if request.meta.get(CIRCUIT_META):  # the failure that opened its host's circuit, or one after it
            error += f"; not retried: {request.meta[CIRCUIT_META]}"
        yield manifest_row(request, response, run_id=self.run_id, error=error)

    def _describe(self, exc: BaseException, request: Request) -> str:
        """The error for the manifest. Some of Scrapy's errors carry no message (a body
        that outgrows DOWNLOAD_MAXSIZE while streaming ends in a bare DownloadCancelledError):
        the row must still say why."""
        name, message = type(exc).__name__, str(exc)
        if not message:
            message = ((type(exc).__doc__ or "").strip().splitlines() or ["no message"])[0]
            if name == "DownloadCancelledError":
                maxsize = request.meta.get("download_maxsize", self.settings.getint("DOWNLOAD_MAXSIZE"))
                message += f" (the body grew beyond DOWNLOAD_MAXSIZE {maxsize} B, or the download was stopped)"
        if isinstance(exc, HttpError) and 300 <= exc.response.status < 400:
            message += self._unfollowed_redirect(request, exc.response)
        return f"{name}: {message}"

    def _unfollowed_redirect(self, request: Request, response: Response) -> str:
        """Why Scrapy handed a redirect back unfollowed, when it points off the allow-list (RedirectMiddleware
        does not follow a Location to file:, ftp:, data: …: the response reaches the errback as an HttpError)."""
        location = (response.headers.get(b"Location") or b"").decode("latin-1").strip()
        source = self.sources.get(request.meta.get("source_id"))
        if not location or source is None:
            return ""
        try:
            target = urljoin(request.url, location)
        except ValueError:
            target = location
        refusal = source.allow.refusal(target)
        return f" (redirect to {_clip(target)} not followed: {refusal})" if refusal else ""

    def refuse_redirect(self, request: Request) -> str | None:
        """Why a redirect must not be followed (None: follow it). OffsiteMiddleware drops
        an off-site redirect at scheduling without calling any errback, and it only knows
        the union of all sources' domains: each source's own allow-list is applied here."""
        redirects = request.meta.get("redirect_urls")
        source = self.sources.get(request.meta.get("source_id"))
        if not redirects or source is None:
            return None
        refusal = source.allow.refusal(request.url)
        if refusal is None:
            return None
        return f"{REDIRECT_REFUSED} (offsite) to {_clip(request.url)}: {refusal}"

    @staticmethod
    def _is_html(response: Response) -> bool:
        content_type = _content_type(response)
        return isinstance(response, TextResponse) and (not content_type or content_type.startswith(HTML_TYPES))
