"""Which URLs the crawl of a source may request: the allow-list rule, in one place.

A source's allow-list is made of origins (scheme, host, port):
- each entry URL (and the json_api list URL) allows exactly its own origin:
  http://127.0.0.1:8000/xxgk/ allows http://127.0.0.1:8000 and nothing else on that host;
- each `allowed_domains` entry of sources.yaml:
    ordos.gov.cn            that host and its subdomains, over http on port 80 and https on 443 only
    ordos.gov.cn:8080       that host and its subdomains, on port 8080 only (http or https)
    http://host:8080        exactly that origin (a URL written as an entry)
  An IP address has no subdomains.

Schemes other than http and https (file:, ftp:, data:, javascript: …) are never followed.

`url_refusal` is the rule; everything that decides whether to follow a URL (links of listing
and report pages, JSON list results, attachments, redirects) asks it, through AllowList.refusal.
No Scrapy here.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable
from urllib.parse import SplitResult, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
FOLLOWED_SCHEMES = frozenset(DEFAULT_PORTS)
_HOST_NAME = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$")
_CACHED_URL_LENGTH = 2048  # longer URLs (data: …) are checked without being kept in the cache


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _normal_host(host: str | None) -> str:
    """Lower case, without the trailing dot of a fully qualified name (www.x.gov.cn. is www.x.gov.cn)."""
    return (host or "").lower().rstrip(".")


def host_port(host: str, port: int) -> str:
    """host:port, an IPv6 address in brackets: the key of a host in messages and in the circuit breaker."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True)
class AllowedOrigin:
    """One pattern of an allow-list."""
    host: str                   # lower case, no trailing dot; an IPv6 address without brackets
    port: int | None = None     # None: the scheme's default port (80 for http, 443 for https)
    scheme: str | None = None   # None: http or https
    subdomains: bool = False    # the host's subdomains too

    def admits(self, scheme: str, host: str, port: int) -> bool:
        if self.scheme is not None and scheme != self.scheme:
            return False
        if port != (self.port if self.port is not None else DEFAULT_PORTS[scheme]):
            return False
        return host == self.host or (self.subdomains and host.endswith("." + self.host))

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        text = f"{self.scheme or 'http(s)'}://{'[*.]' if self.subdomains else ''}{host}"
        return text + (f":{self.port}" if self.port is not None else "")


def origin_of_url(url: str) -> AllowedOrigin | None:
    """The exact origin of an http(s) URL (None for other schemes, e.g. an unresolved {BASE})."""
    parts = urlsplit(url)
    if parts.scheme not in FOLLOWED_SCHEMES or not _normal_host(parts.hostname):
        return None
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{url!r}: {exc}") from None
    return AllowedOrigin(_normal_host(parts.hostname), port if port is not None else DEFAULT_PORTS[parts.scheme],
                         parts.scheme, subdomains=False)


def parse_allowed_entry(entry: str) -> AllowedOrigin:
    """An `allowed_domains` entry as an origin pattern (ValueError when it is none)."""
    text = str(entry).strip()
    if "://" in text:
        origin = origin_of_url(text)
        parts = urlsplit(text)
        if origin is None or parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
            raise ValueError(f"allowed_domains entry {entry!r}: an origin is scheme://host[:port] with http or https")
        return origin
    if text.count(":") > 1 and not text.startswith("["):  # a bare IPv6 address: ::1
        text = f"[{text}]"
    parts = urlsplit("//" + text)
    host = _normal_host(parts.hostname).lstrip(".")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"allowed_domains entry {entry!r}: the port is not a number from 0 to 65535") from None
    if not host or parts.path or parts.query or parts.fragment or parts.username is not None:
        raise ValueError(f"allowed_domains entry {entry!r}: expected a domain, or domain:port")
    ip = _is_ip(host)
    if not ip and not _HOST_NAME.match(host):
        raise ValueError(f"allowed_domains entry {entry!r}: {host!r} is not a host name")
    return AllowedOrigin(host, port, None, subdomains=not ip)


@dataclass(frozen=True)
class AllowList:
    """The origins one source's crawl may request (hashable: lookups are cached)."""
    origins: tuple[AllowedOrigin, ...]

    def refusal(self, url: str) -> str | None:
        """None when the URL may be requested, else why not (see url_refusal)."""
        return url_refusal(url, self)

    def allows(self, url: str) -> bool:
        return url_refusal(url, self) is None

    @property
    def hosts(self) -> tuple[str, ...]:
        """The host names of the origins (Scrapy's OffsiteMiddleware knows hosts only: a coarser net)."""
        return tuple(dict.fromkeys(o.host for o in self.origins))

    def __str__(self) -> str:
        return ", ".join(str(o) for o in self.origins) or "nothing"


@lru_cache(maxsize=1024)
def allow_list(entry_urls: tuple[str, ...] = (), allowed_domains: tuple[str, ...] = ()) -> AllowList:
    """A source's allow-list: the origins of its entry URLs (and list API URL) and its allowed_domains
    entries. ValueError for an entry that is neither a domain, domain:port nor an origin."""
    origins = [o for o in (origin_of_url(u) for u in entry_urls) if o is not None]
    origins += [parse_allowed_entry(d) for d in allowed_domains]
    return AllowList(tuple(dict.fromkeys(origins)))


def as_allow_list(allowed: AllowList | Iterable[str] | None, page_url: str | None = None) -> AllowList:
    """An AllowList as it is; a list of allowed_domains entries as their allow-list; nothing: the
    page's own origin and its host on the default ports."""
    if isinstance(allowed, AllowList):
        return allowed
    domains = tuple(allowed) if allowed else ()
    if not domains:
        host = _normal_host(urlsplit(page_url or "").hostname)
        return allow_list((page_url,) if page_url else (), (host,) if host else ())
    return allow_list((), domains)


def url_refusal(url: str, allow: AllowList) -> str | None:
    """THE allow-list rule: None when a source with this allow-list may request `url`, else the reason.

    The URL must be the one that would be requested (absolute, as Scrapy normalised it): its
    scheme must be http or https, and (scheme, host, port) — the port defaulting to 80 or 443 —
    must match one of the allow-list's origins."""
    if len(url) > _CACHED_URL_LENGTH:
        return _refusal(url, allow)
    return _cached_refusal(url, allow)


def _refusal(url: str, allow: AllowList) -> str | None:
    try:
        parts: SplitResult = urlsplit(url)
    except ValueError as exc:  # an invalid IPv6 literal, …
        return f"not a valid URL ({exc})"
    scheme = parts.scheme
    if scheme not in FOLLOWED_SCHEMES:
        return f"scheme {scheme + ':' if scheme else '(none)'} is never followed (http and https only)"
    try:
        host, port = _normal_host(parts.hostname), parts.port
    except ValueError:
        return f"invalid port in {parts.netloc!r}"
    if not host:
        return "no host in the URL"
    port = port if port is not None else DEFAULT_PORTS[scheme]
    if any(origin.admits(scheme, host, port) for origin in allow.origins):
        return None
    return f"{scheme}://{host_port(host, port)} is not on the source's allow-list ({allow})"


_cached_refusal = lru_cache(maxsize=65536)(_refusal)
