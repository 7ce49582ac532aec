"""spiders.gate: which sources a crawl may start on, and crawl run ids (the CLI and Dagster share both)."""
from __future__ import annotations

import re

import pytest

from spiders.gate import crawl_gate, new_run_id
from spiders.gate import LIVE_CRAWL_ENV
from spiders.sources import Source


def source(source_id: str, url: str) -> Source:
    return Source(id=source_id, name="某局 年报", family="trs_static", entry_urls=(url,), allowed_domains=())


LOCAL = source("local", "http://127.0.0.1:8000/nb/")
LIVE = source("live", "https://www.example.gov.cn/nb/")


def test_run_ids_are_unique_and_sortable_by_time():
    first, second = new_run_id(), new_run_id()
    assert first != second
    assert re.fullmatch(r"\d{8}T\d{6}-[0-9a-f]{6}", first)
    assert re.fullmatch(r"ab12cd34-\d{8}T\d{6}-[0-9a-f]{6}", new_run_id("ab12cd34"))


def test_local_sources_are_always_crawled(monkeypatch):
    monkeypatch.delenv(LIVE_CRAWL_ENV, raising=False)
    gate = crawl_gate([LOCAL])
    assert (gate.sources, gate.refused, gate.live) == ((LOCAL,), None, ())


def test_nothing_to_crawl():
    gate = crawl_gate([])
    assert gate.sources == () and gate.refused == "no enabled sources" and "no enabled sources" in gate.message


@pytest.mark.parametrize("allowed,env,crawled", [(False, None, False), (True, None, True), (False, "1", True),
                                                 (False, "0", False)])
def test_live_sources_need_an_opt_in(monkeypatch, allowed, env, crawled):
    if env is None:
        monkeypatch.delenv(LIVE_CRAWL_ENV, raising=False)
    else:
        monkeypatch.setenv(LIVE_CRAWL_ENV, env)
    gate = crawl_gate([LOCAL, LIVE], live_allowed=allowed)
    assert gate.live == ("live",)
    if crawled:
        assert gate.sources == (LOCAL, LIVE) and gate.refused is None
    else:  # one live source holds the whole crawl back, and the message says how to allow it
        assert gate.sources == () and gate.refused == "live crawling off"
        assert "live" in gate.message and f"{LIVE_CRAWL_ENV}=1" in gate.message
