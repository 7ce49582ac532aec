"""json_api: the column's list comes from a JSON endpoint (the `api:` block of sources.yaml).

The entry page, when there is one, is a static page read as trs_static; the list itself is
POSTed page by page (`api.form` plus the page number and size) and answers JSON such as the
State Taxation Administration's getFileListByCodeId:
{"results": {"data": {"total": 32, "results": [{"title"|"titleHtml", "url", …}]}}}.
Pages are asked for until the stated total is reached, a page lists nothing, or api.max_pages.
Needs from sources.yaml: api (url, form, page_field, size_field, page_size, first_page, max_pages).
"""
from __future__ import annotations

import html as html_lib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from spiders.discovery import Link, RefusedLink, is_report_title, is_report_url, resolve_href
from spiders.families.base import Fetch, Listing, Page, SourceConfig
from spiders.families.trs_static import TrsStatic
from spiders.families.registry import register
from spiders.origins import AllowList, as_allow_list

_TITLE_KEYS = ("title", "titleHtml", "doctitle", "docTitle", "name")
_URL_KEYS = ("url", "link", "href", "chnldocurl", "docpuburl", "docPubUrl")
_TOTAL_KEYS = ("total", "totalCount", "recordCount", "total_count")
_TAG = re.compile(r"<[^>]+>")


@dataclass
class JsonListPage:
    items: list[Link] = field(default_factory=list)  # every listed document
    total: int | None = None                          # items in the whole list, when stated
    refused: list[RefusedLink] = field(default_factory=list)  # listed reports off the allow-list

    @property
    def reports(self) -> list[Link]:
        return [link for link in self.items if is_report_title(link.title) or is_report_url(link.url)]


def _plain_text(value: Any) -> str:
    return " ".join(html_lib.unescape(_TAG.sub("", str(value or ""))).split())


def _record_lists(node: Any) -> Iterable[tuple[dict, list[dict]]]:
    """(container, records) for every list of dicts that have a title and a URL."""
    if isinstance(node, dict):
        for value in node.values():
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                if any(any(k in v for k in _TITLE_KEYS) and any(k in v for k in _URL_KEYS) for v in value):
                    yield node, value
                    continue
            yield from _record_lists(value)
    elif isinstance(node, list):
        for value in node:
            yield from _record_lists(value)


def parse_json_list(text: str | bytes, page_url: str, allowed: AllowList | Iterable[str] | None = None) -> JsonListPage:
    """Read a JSON list answer: every list of records with a title and a URL, wherever it sits.
    Titles lose their HTML markup; URLs are resolved and filtered like page links
    (reports off the allow-list are in `refused`)."""
    allow = as_allow_list(allowed, page_url)
    page = JsonListPage()
    seen: set[str] = set()
    for container, records in _record_lists(json.loads(text)):
        for record in records:
            raw_url = next((record[k] for k in _URL_KEYS if record.get(k)), None)
            url, refusal = resolve_href(raw_url if isinstance(raw_url, str) else None, page_url, allow)
            if url is None or url in seen:
                continue
            seen.add(url)
            title = next((_plain_text(record[k]) for k in _TITLE_KEYS if record.get(k)), "")
            if refusal is not None:
                if is_report_title(title) or is_report_url(url):  # what JsonListPage.reports would follow
                    page.refused.append(RefusedLink(url, title, "report", refusal))
                continue
            page.items.append(Link(url, title))
        total = next((container[k] for k in _TOTAL_KEYS if isinstance(container.get(k), int)), None)
        if total is not None:
            page.total = max(page.total or 0, total)
    return page


class JsonApiFamily(TrsStatic):
    name = "json_api"

    def problems(self, source: SourceConfig) -> list[str]:
        return [] if source.api is not None else ["family json_api needs an api: block"]

    def start(self, source: SourceConfig) -> list[Fetch]:
        return [*super().start(source), self.list_page(source, source.api.first_page)]

    @staticmethod
    def list_page(source: SourceConfig, number: int) -> Fetch:
        api = source.api
        form = {**api.form, api.page_field: str(number), api.size_field: str(api.page_size)}
        return Fetch(api.url, "listing", title=source.name, form=form, list_page=number, reads="json")

    def read(self, source: SourceConfig, page: Page) -> Listing:
        if page.reads != "json":
            return super().read(source, page)  # the entry page
        answer = parse_json_list(page.text, page.url, source.allow)
        api, number = source.api, page.list_page
        pages_read = number - api.first_page + 1
        more = answer.total is None or pages_read * api.page_size < answer.total
        follow_on = answer.items and more and pages_read < api.max_pages
        return Listing(reports=answer.reports, declared_items=answer.total, refused=answer.refused,
                       next_pages=[self.list_page(source, number + 1)] if follow_on else [])


FAMILY = register(JsonApiFamily())
