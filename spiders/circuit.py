"""A circuit breaker per host: a dead site costs a few connection attempts, not one per link.

A host (host:port, as the downloader connects to it) whose requests fail at the connection
level HOST_FAILURE_LIMIT times in a row — refused, unresolvable, timed out, reset or closed
before an answer; an HTTP answer, 404 and 500 included, is a success — has its circuit opened:
its remaining requests in this run are not sent (IgnoreRequest "circuit open: host H:P failed
N times in a row …", which the spider's errback records in the manifest), and requests that
fail after that are not retried (dont_retry; their rows say so). Any answer from the host
resets its count (and closes its circuit again, should a request already under way come back).
"Times" are requests: the retries of a URL that already failed in the current run of failures
do not add to it. So a live host whose last few pages keep timing out (each tried 1 + RETRY_TIMES
times, one after the other at the end of a crawl) is not cut off for a handful of bad URLs, and
a dead one costs at most HOST_FAILURE_LIMIT + RETRY_TIMES attempts (its robots.txt comes first,
with its retries).

While a host's last outcome was a connection failure, its requests go out one at a time (a
probe, the others wait for its outcome): what a dead host costs does not grow with the
concurrency (only the requests already under way when it first failed come on top).

HostCircuits is the bookkeeping (no Scrapy); HostCircuitBreakerMiddleware the downloader
middleware. It sits at 950, after HttpCacheMiddleware (900), so that it sees the network's own
outcomes: a failure the cache covers with a stale copy still counts, a response served from
the cache does not. The per-host report (hosts with connection failures) is kept in the crawl
stats under CIRCUIT_STATS_KEY; the run summary copies it (spiders.archive_pipeline).

Settings: HOST_FAILURE_LIMIT (0 switches the breaker off).
"""
from __future__ import annotations

import logging
import socket
from collections import Counter, deque
from dataclasses import dataclass, field

from twisted.internet import error as tx_error
from twisted.internet.defer import Deferred

from scrapy.exceptions import (
    CannotResolveHostError, DownloadConnectionRefusedError, DownloadFailedError, DownloadTimeoutError,
    IgnoreRequest, NotConfigured,
)
from scrapy.http import Request, Response
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached

from spiders.origins import DEFAULT_PORTS, host_port

logger = logging.getLogger(__name__)

CIRCUIT_OPEN = "circuit open"
CIRCUIT_META = "circuit_open"       # request meta: the open circuit that stopped its retries
PROBE_META = "_circuit_probe"       # request meta: the one request let through to a failing host
CIRCUIT_STATS_KEY = "circuit_breaker/hosts"

# Failures that say nothing came back from the host (an HTTP status, whatever it is, is an answer).
CONNECTION_FAILURES: tuple[type[BaseException], ...] = (
    DownloadConnectionRefusedError,   # connection refused
    CannotResolveHostError,           # DNS
    DownloadTimeoutError,             # DOWNLOAD_TIMEOUT, connect or answer
    DownloadFailedError,              # reset, or closed before (or while) answering
    tx_error.ConnectError,            # what Scrapy does not wrap: no route, TCP timeout …
    tx_error.ConnectionLost,
    tx_error.ConnectionDone,
    ConnectionError,                  # the built-in ones: refused, reset, aborted
    TimeoutError,
    socket.gaierror,
)


def is_connection_failure(exc: BaseException) -> bool:
    return isinstance(exc, CONNECTION_FAILURES)


def _with_subclasses(classes) -> frozenset[str]:
    names, stack = set(), list(classes)
    while stack:
        cls = stack.pop()
        if cls.__name__ not in names:
            names.add(cls.__name__)
            stack.extend(cls.__subclasses__())
    return frozenset(names)


def may_answer_later(status: int | None, error: str | None) -> bool:
    """Whether a manifest row's failure is one another run may not meet: no answer came (a connection
    failure, or a request its host's open circuit held back) or the server failed (5xx, 429). An
    answer such as a 404, a refusal by the allow-list or a size cap stands. The row's error starts
    with the exception's class name (ReportSpider.on_failure)."""
    if status is not None:
        return status >= 500 or status == 429
    if not error:
        return False
    return error.split(":", 1)[0] in _with_subclasses(CONNECTION_FAILURES) or CIRCUIT_OPEN in error


def describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


@dataclass
class HostState:
    failing: set = field(default_factory=set)  # the URLs that failed since the host last answered
    attempts: int = 0               # requests let through to the network
    connection_failures: int = 0
    skipped: int = 0                # requests not sent: the circuit was open
    open: bool = False
    opened: int = 0                 # times the circuit opened in this run
    last_error: str | None = None

    @property
    def failures_in_a_row(self) -> int:
        return len(self.failing)


class HostCircuits:
    """Consecutive connection failures per host, and whose circuit is open."""

    def __init__(self, limit: int):
        if limit < 1:
            raise ValueError("HOST_FAILURE_LIMIT must be at least 1")
        self.limit = limit
        self.hosts: dict[str, HostState] = {}
        self.attempts: Counter[str] = Counter()  # every host's, failing or not (cheap, and the report needs it)

    def state(self, host: str) -> HostState | None:
        return self.hosts.get(host)

    def refusal(self, host: str, tried: int = 0) -> str | None:
        """Why a request to the host must not be sent (None: send it); `tried`: times it was sent already."""
        state = self.hosts.get(host)
        if state is None or not state.open:
            return None
        return (f"{CIRCUIT_OPEN}: host {host} failed {state.failures_in_a_row} times in a row "
                f"(last: {state.last_error}); " + (f"not retried after {tried} attempts" if tried else "not requested"))

    def reason(self, host: str) -> str:
        state = self.hosts[host]
        return f"{CIRCUIT_OPEN}: host {host} failed {state.failures_in_a_row} times in a row"

    def attempt(self, host: str) -> None:
        self.attempts[host] += 1
        if host in self.hosts:
            self.hosts[host].attempts += 1

    def skip(self, host: str) -> None:
        self.hosts[host].skipped += 1

    def success(self, host: str) -> None:
        state = self.hosts.get(host)
        if state is not None:
            state.failing.clear()
            state.open = False

    def failure(self, host: str, error: str, url: str) -> bool:
        """Count a connection failure of a request for `url` (its retries count once); True when it
        opens the host's circuit."""
        state = self.hosts.get(host)
        if state is None:
            state = self.hosts[host] = HostState(attempts=self.attempts[host])
        state.failing.add(url)
        state.connection_failures += 1
        state.last_error = error
        if not state.open and state.failures_in_a_row >= self.limit:
            state.open = True
            state.opened += 1
            return True
        return False

    def is_open(self, host: str) -> bool:
        state = self.hosts.get(host)
        return bool(state and state.open)

    def report_of(self, host: str) -> dict:
        s = self.hosts[host]
        return {"circuit": "open" if s.open else "closed", "opened": s.opened,
                "failures_in_a_row": s.failures_in_a_row, "connection_failures": s.connection_failures,
                "attempts": s.attempts, "skipped": s.skipped, "last_error": s.last_error}

    def report(self) -> dict[str, dict]:
        """{host: figures} for every host with a connection failure in this run."""
        return {host: self.report_of(host) for host in sorted(self.hosts)}


def request_host(request: Request) -> str | None:
    """host:port the downloader connects to for this request (None for data:, file: …)."""
    parts = urlparse_cached(request)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    return host_port(parts.hostname.lower().rstrip("."), port if port is not None else DEFAULT_PORTS[parts.scheme])


@dataclass
class _Gate:
    probing: bool = False
    waiters: deque = field(default_factory=deque)


class HostCircuitBreakerMiddleware:
    def __init__(self, crawler):
        limit = crawler.settings.getint("HOST_FAILURE_LIMIT", 5)
        if limit <= 0:
            raise NotConfigured
        self.circuits = HostCircuits(limit)
        self.stats = crawler.stats
        self.gates: dict[str, _Gate] = {}
        # a waiting request stops waiting for a probe that never reports back (it should always)
        self.max_wait = crawler.settings.getfloat("DOWNLOAD_TIMEOUT", 180) + 5
        self.report: dict[str, dict] = {}
        self.stats.set_value(CIRCUIT_STATS_KEY, self.report)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        host = request_host(request)
        if host is None:
            return None
        while True:
            refusal = self.circuits.refusal(host, request.meta.get("retry_times", 0))
            if refusal is not None:
                self.circuits.skip(host)
                self._publish(host)
                self.stats.inc_value("circuit_breaker/skipped")
                raise IgnoreRequest(refusal)
            state = self.circuits.state(host)
            if state is None or state.failures_in_a_row == 0:
                break
            gate = self.gates.setdefault(host, _Gate())
            if not gate.probing:
                gate.probing = True
                request.meta[PROBE_META] = True
                break
            await self._wait(host, gate)
        self.circuits.attempt(host)
        return None

    async def _wait(self, host: str, gate: _Gate) -> None:
        waiter: Deferred = Deferred()
        gate.waiters.append(waiter)

        def give_up():
            if not waiter.called:
                logger.warning("no outcome from the probe of %s in %.0f s: sending another", host, self.max_wait)
                gate.probing = False
                waiter.callback(None)

        timer = call_later(self.max_wait, give_up)
        try:
            await maybe_deferred_to_future(waiter)
        finally:
            timer.cancel()

    def _release(self, host: str, everyone: bool) -> None:
        gate = self.gates.get(host)
        while gate is not None and gate.waiters:
            waiter = gate.waiters.popleft()
            if not waiter.called:
                waiter.callback(None)
                if not everyone:
                    return

    def _end_probe(self, request: Request, host: str) -> bool:
        if request.meta.pop(PROBE_META, False):
            gate = self.gates.get(host)
            if gate is not None:
                gate.probing = False
            return True
        return False

    def process_response(self, request: Request, response: Response) -> Response:
        host = request_host(request)
        if host is None:
            return response
        probe = self._end_probe(request, host)
        if "cached" in response.flags:  # from the HTTP cache, not from the host
            if probe:
                self._release(host, everyone=False)
            return response
        state = self.circuits.state(host)
        if state is not None and (state.failures_in_a_row or state.open):
            if state.open:
                logger.warning("host %s answered again: its circuit is closed", host)
            self.circuits.success(host)
            self._publish(host)
            self._release(host, everyone=True)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        host = request_host(request)
        if host is None:
            return None
        probe = self._end_probe(request, host)
        if not is_connection_failure(exception):
            if probe:  # no news about the host: let the next request probe it
                self._release(host, everyone=False)
            return None
        opened = self.circuits.failure(host, describe(exception), request.url)
        self.stats.inc_value("circuit_breaker/connection_failures")
        if self.circuits.is_open(host):
            request.meta["dont_retry"] = True
            request.meta[CIRCUIT_META] = self.circuits.reason(host)
        if opened:
            self.stats.inc_value("circuit_breaker/opened")
            logger.warning("%s (last: %s): its remaining requests in this run are skipped",
                           self.circuits.reason(host), describe(exception))
        self._publish(host)
        if self.circuits.is_open(host):  # everyone waiting is refused now
            self._release(host, everyone=True)
        elif not self.gates.setdefault(host, _Gate()).probing:  # the next waiter is the next probe
            self._release(host, everyone=False)
        return None

    def _publish(self, host: str) -> None:
        self.report[host] = self.circuits.report_of(host)
