"""What every site family answers, as plain data (no Scrapy: the spider turns it into requests).

A family is a strategy object: `start(source)` says which requests begin a source's crawl,
`read(source, page)` reads one fetched listing or report page into the links to follow, and
`problems(source)` says what the source's YAML lacks for this family.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from spiders.discovery import Link, RefusedLink
from spiders.origins import AllowList


class SourceConfig(Protocol):
    """What the families read of a source (spiders.sources.Source, which imports the registry)."""
    id: str
    name: str
    family: str
    entry_urls: tuple[str, ...]
    api: Any  # spiders.sources.JsonApi or None

    @property
    def allow(self) -> AllowList: ...


@dataclass(frozen=True)
class Fetch:
    """One request a family asks for: a GET of `url`, or a POST of `form` (a JSON list API page)."""
    url: str
    kind: str                               # manifest kind: "listing" or "report"
    title: str | None = None                # the link title recorded in the manifest
    form: dict[str, str] | None = None      # POST these form fields
    list_page: int | None = None            # the list API's page number, handed back to read()
    reads: str = "html"                     # the body read() expects: "html" or "json"

    @property
    def key(self) -> str:
        """What the crawl's reach bookkeeping calls this page (API pages share one URL)."""
        return self.url if self.list_page is None else f"{self.url}#page={self.list_page}"


@dataclass(frozen=True)
class Page:
    """A fetched listing or report page (status 200, a body of the kind `reads` expects)."""
    url: str
    text: str
    kind: str                       # "listing" or "report"
    reads: str = "html"
    list_page: int | None = None


@dataclass
class Listing:
    """What a page says to follow. The spider follows every link here (allow-list, depth and
    archive permitting) and records every refused one."""
    reports: list[Link] = field(default_factory=list)
    attachments: list[Link] = field(default_factory=list)
    next_pages: list[Fetch] = field(default_factory=list)   # the same column's further pages
    columns: list[Link] = field(default_factory=list)       # other report columns (listings)
    declared_items: int | None = None                       # items the column says it holds
    refused: list[RefusedLink] = field(default_factory=list)


class SiteFamily:
    """The interface; each family module subclasses it (or a family it extends) and registers one instance."""
    name: str = ""

    def problems(self, source: SourceConfig) -> list[str]:
        """What this family needs from the source's YAML and does not find there."""
        return []

    def start(self, source: SourceConfig) -> list[Fetch]:
        raise NotImplementedError

    def read(self, source: SourceConfig, page: Page) -> Listing:
        raise NotImplementedError
