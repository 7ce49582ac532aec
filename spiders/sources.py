"""The sources registry (sources.yaml at the project root) as plain dataclasses.

No Scrapy here: Dagster assets and checks read the registry too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from spiders.families import family_for, family_names
from spiders.origins import AllowList, allow_list

BASE_PLACEHOLDER = "{BASE}"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_local_url(url: str) -> bool:
    """On the {BASE} test/demo site or on this machine: crawling it touches no real site."""
    return url.startswith(BASE_PLACEHOLDER) or (urlsplit(url).hostname or "") in LOOPBACK_HOSTS


@dataclass(frozen=True)
class JsonApi:
    """A POST list endpoint answering JSON (the api: block, read by spiders.families.json_api)."""
    url: str
    form: dict[str, str] = field(default_factory=dict)  # fixed form fields (channelId …)
    page_field: str = "page"
    size_field: str = "size"
    page_size: int = 50
    first_page: int = 1
    max_pages: int = 20


@dataclass(frozen=True)
class Source:
    id: str
    name: str
    family: str
    entry_urls: tuple[str, ...]
    allowed_domains: tuple[str, ...]
    agency_id: str | None = None
    enabled: bool = False
    api: JsonApi | None = None
    notes: str = ""

    @property
    def allow(self) -> AllowList:
        """The origins this source's crawl may request (spiders.origins: entry URLs, the list API's
        URL, allowed_domains). A bare domain allows the default ports only; domain:port that port."""
        return allow_list((*self.entry_urls, *([self.api.url] if self.api else [])), self.allowed_domains)

    @property
    def is_local(self) -> bool:
        """Every URL the crawl starts from (entry pages, list API) is local: no real site is touched."""
        return all(is_local_url(u) for u in (*self.entry_urls, *([self.api.url] if self.api else [])))

    def with_base_url(self, base_url: str | None) -> Source:
        """Substitute BASE_PLACEHOLDER in URLs (test and demo sites on a free port)."""
        if not base_url:
            return self
        base = base_url.rstrip("/")
        api = self.api
        if api is not None:
            api = JsonApi(**{**api.__dict__, "url": api.url.replace(BASE_PLACEHOLDER, base)})
        return Source(**{
            **self.__dict__,
            "entry_urls": tuple(u.replace(BASE_PLACEHOLDER, base) for u in self.entry_urls),
            "api": api,
        })


def _source_from_dict(raw: dict[str, Any]) -> Source:
    missing = [k for k in ("id", "name", "family", "allowed_domains") if not raw.get(k)]
    if missing:
        raise ValueError(f"source {raw.get('id', '?')}: missing {', '.join(missing)}")
    if raw["family"] not in family_names():
        raise ValueError(f"source {raw['id']}: family {raw['family']!r} is not one of {family_names()}")
    api = JsonApi(**raw["api"]) if raw.get("api") else None
    if not raw.get("entry_urls") and api is None:
        raise ValueError(f"source {raw['id']}: no entry_urls")
    urls = [*(raw.get("entry_urls") or ()), *([api.url] if api else [])]
    # live crawling is opt-in: without an explicit `enabled`, only local sources run
    enabled = raw.get("enabled", all(is_local_url(u) for u in urls))
    try:
        allow_list(tuple(u for u in urls if not u.startswith(BASE_PLACEHOLDER)), tuple(raw["allowed_domains"]))
    except ValueError as exc:
        raise ValueError(f"source {raw['id']}: {exc}") from None
    source = Source(
        id=str(raw["id"]),
        name=str(raw["name"]),
        family=raw["family"],
        entry_urls=tuple(raw.get("entry_urls") or ()),
        allowed_domains=tuple(raw["allowed_domains"]),
        agency_id=raw.get("agency_id"),
        enabled=bool(enabled),
        api=api,
        notes=str(raw.get("notes") or "").strip(),
    )
    problems = family_for(source).problems(source)
    if problems:
        raise ValueError(f"source {source.id}: {'; '.join(problems)}")
    return source


def load_sources(path: str | Path, *, only_ids: list[str] | None = None,
                 base_url: str | None = None, include_disabled: bool = False) -> list[Source]:
    """The enabled sources of the registry file (all of them with include_disabled),
    optionally only those named in only_ids. Naming a disabled source without
    include_disabled is an error: live crawling is opt-in, twice over."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    sources = [_source_from_dict(s) for s in raw.get("sources") or []]
    ids = [s.id for s in sources]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate source ids: {sorted(duplicates)}")
    if only_ids:
        unknown = set(only_ids) - set(ids)
        if unknown:
            raise ValueError(f"unknown source ids: {sorted(unknown)}")
        sources = [s for s in sources if s.id in only_ids]
    if not include_disabled:
        disabled = [s.id for s in sources if not s.enabled]
        if only_ids and disabled:
            raise ValueError(f"sources {disabled} are disabled (enabled: false); pass include_disabled to crawl them")
        sources = [s for s in sources if s.enabled]
    return [s.with_base_url(base_url) for s in sources]
