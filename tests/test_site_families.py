"""Each site family (spiders.families) on a small site written for it (tests/fixtures/families/<family>):
the strategy called on the saved pages, then the site served on 127.0.0.1 and crawled end to end."""
from __future__ import annotations

import json
import mimetypes
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pyarrow.parquet as pq
import pytest
import yaml

from spiders.families import family_for, family_names
from spiders.families.base import Page
from spiders.sources import JsonApi, Source, load_sources
from tests.test_spider_crawl import run_crawl, serving

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "families"
HOST = "http://127.0.0.1:8765"  # where the unit tests pretend the fixture sites live

TRS_COLUMN = "/zwgk/ndbg/"
JSON_ENTRY = "/xxgk/gknb.html"
JSON_API = "/api/docList"
AREA = "1136102300000000XA"
HANWEB_MODULE = "/module/xxgk/xxgkAnnualReport.jsp"
GENERIC_LIST = "/web/nianbao/more.htm"  # not index/list/default: no page file to trs_static


def hanweb_year(year: int) -> str:
    return f"{HANWEB_MODULE}?area={AREA}&fbtime={year}"


# each family's source, as sources.yaml would give it ({BASE}: the served fixture site)
SOURCES = {
    "trs_static": {"entry_urls": [f"{{BASE}}{TRS_COLUMN}index.html"]},
    "json_api": {"entry_urls": [f"{{BASE}}{JSON_ENTRY}"],
                 "api": {"url": f"{{BASE}}{JSON_API}", "form": {"channelId": "c8f1d2a07b"},
                         "page_field": "pageNo", "size_field": "pageSize", "page_size": 3, "max_pages": 5}},
    "hanweb_annual_report": {"entry_urls": [f"{{BASE}}{hanweb_year(2023)}"]},
    "generic": {"entry_urls": [f"{{BASE}}{GENERIC_LIST}"]},
}

# what a crawl of each fixture site archives: report pages and attachments (paths and queries)
EXPECTED = {
    "trs_static": {
        "report": {TRS_COLUMN + p for p in ("202403/t20240318_5501.html", "202303/t20230327_4410.html",
                                            "202202/t20220215_3302.html", "202104/t20210408_2201.html")},
        "attachment": {TRS_COLUMN + "202403/P020240318600001.pdf", TRS_COLUMN + "202303/P020230327551234.pdf"},
        "listing": {TRS_COLUMN + "index.html", TRS_COLUMN + "index_1.html", TRS_COLUMN + "index_2.html"},
    },
    "json_api": {
        "report": {"/art/2024/art_88001.html", "/art/2023/art_76001.html", "/art/2022/art_64010.html"},
        "attachment": set(),
        "listing": {JSON_ENTRY, JSON_API},
    },
    "hanweb_annual_report": {
        "report": {hanweb_year(y) for y in (2023, 2022, 2021, 2020)},
        "attachment": {f"/module/download/downfile.jsp?classid=0&filename={n}.pdf"
                       for n in (2403181, 2303152, 2203093, 2103104)},
        "listing": set(),
    },
    "generic": {
        "report": {"/web/content/2024-03/sl_1733.htm", "/web/content/2023-03/sl_1420.htm",
                   "/web/content/2022-03/sl_1105.htm"},
        "attachment": {"/web/content/2022-03/sl_1101.doc"},
        "listing": {GENERIC_LIST, GENERIC_LIST + "?page=2", GENERIC_LIST + "?page=3"},
    },
}


def make_source(family: str, base: str = HOST) -> Source:
    spec = SOURCES[family]
    api = JsonApi(**{**spec["api"], "url": spec["api"]["url"].replace("{BASE}", base)}) if "api" in spec else None
    return Source(id=f"{family}-site", name="年度报告栏目", family=family, allowed_domains=("127.0.0.1",),
                  entry_urls=tuple(u.replace("{BASE}", base) for u in spec["entry_urls"]), api=api)


def fixture_path(family: str, path_and_query: str) -> Path:
    """A URL's file in the family's fixture site: the path, then "@query" when there is one."""
    path, _, query = path_and_query.partition("?")
    return FIXTURES / family / (path.lstrip("/") + (f"@{query}" if query else ""))


def read(family: str, path_and_query: str, kind: str, *, reads: str = "html", list_page: int | None = None):
    source = make_source(family)
    page = Page(url=HOST + path_and_query, text=fixture_path(family, path_and_query).read_text(encoding="utf-8"),
                kind=kind, reads=reads, list_page=list_page)
    return family_for(source).read(source, page)


def paths(links) -> list[str]:
    """Path and query of each link (or Fetch) off the fixture host, in order."""
    return [link.url.removeprefix(HOST) for link in links]


# --- the registry -------------------------------------------------------------------


def test_registry_names_every_family_module():
    assert set(family_names()) == set(SOURCES)
    module_names = {p.stem for p in Path(__file__).resolve().parents[1].joinpath("spiders", "families").glob("*.py")}
    assert set(family_names()) <= module_names


def test_sources_accept_registered_families_only(tmp_path):
    registry = tmp_path / "sources.yaml"
    base = {"id": "x", "name": "某局 年报", "allowed_domains": ["127.0.0.1"], "entry_urls": ["{BASE}/nb/"]}
    registry.write_text(yaml.safe_dump({"sources": [{**base, "family": "generic"}]}, allow_unicode=True),
                        encoding="utf-8")
    assert [s.family for s in load_sources(registry)] == ["generic"]
    for family, problem in (("wordpress", "is not one of"), ("json_api", "needs an api: block")):
        registry.write_text(yaml.safe_dump({"sources": [{**base, "family": family}]}), encoding="utf-8")
        with pytest.raises(ValueError, match=problem):
            load_sources(registry)
    api = {"url": "{BASE}/api/list"}
    registry.write_text(yaml.safe_dump({"sources": [{**base, "family": "trs_static", "api": api}]}), encoding="utf-8")
    with pytest.raises(ValueError, match="read by family json_api only"):
        load_sources(registry)


# --- trs_static ---------------------------------------------------------------------


def test_trs_static_column_page():
    listing = read("trs_static", TRS_COLUMN + "index.html", "listing")
    assert [(p, link.title) for p, link in zip(paths(listing.reports), listing.reports)] == [
        (TRS_COLUMN + "202403/t20240318_5501.html", "雁栖市水务局2023年政府信息公开工作年度报告"),  # title attribute
        (TRS_COLUMN + "202303/t20230327_4410.html", "雁栖市水务局2022年政府信息公开工作年度报告"),
    ]  # the 关于报送…的通知 notice is no report
    assert paths(listing.attachments) == [TRS_COLUMN + "202303/P020230327551234.pdf"]  # titled as a report
    # createPageHTML(3, 0, "index", "html"): the two further pages
    assert paths(listing.next_pages) == [TRS_COLUMN + "index_1.html", TRS_COLUMN + "index_2.html"]
    assert all(fetch.kind == "listing" and fetch.form is None for fetch in listing.next_pages)
    assert listing.columns == [] and listing.refused == []


def test_trs_static_later_pages_reject_non_reports():
    second = read("trs_static", TRS_COLUMN + "index_1.html", "listing")
    assert paths(second.reports) == [TRS_COLUMN + "202202/t20220215_3302.html"]  # not the 部门预算
    assert paths(second.next_pages) == [TRS_COLUMN + "index.html", TRS_COLUMN + "index_2.html"]
    last = read("trs_static", TRS_COLUMN + "index_2.html", "listing")
    assert paths(last.reports) == [TRS_COLUMN + "202104/t20210408_2201.html"]  # not the 一图读懂


def test_trs_static_report_page_and_start():
    report = read("trs_static", TRS_COLUMN + "202403/t20240318_5501.html", "report")
    assert paths(report.attachments) == [TRS_COLUMN + "202403/P020240318600001.pdf"]
    assert report.next_pages == [] and report.reports == []
    source = make_source("trs_static")
    assert [(f.url, f.kind) for f in family_for(source).start(source)] == [(HOST + TRS_COLUMN + "index.html", "listing")]


# --- json_api -----------------------------------------------------------------------


def test_json_api_starts_with_the_entry_page_and_the_first_list_page():
    source = make_source("json_api")
    entry, first = family_for(source).start(source)
    assert (entry.url, entry.kind, entry.form, entry.reads) == (HOST + JSON_ENTRY, "listing", None, "html")
    assert (first.url, first.kind, first.reads, first.list_page) == (HOST + JSON_API, "listing", "json", 1)
    assert first.form == {"channelId": "c8f1d2a07b", "pageNo": "1", "pageSize": "3"}


def test_json_api_list_pages():
    first = read("json_api", JSON_API + "?page=1", "listing", reads="json", list_page=1)
    assert [(p, link.title) for p, link in zip(paths(first.reports), first.reports)] == [
        ("/art/2024/art_88001.html", "青崖市统计局2023年政府信息公开工作年度报告"),  # markup dropped from the title
    ]  # the 编制工作的通知 is listed but no report
    assert first.declared_items == 5
    assert [r.url for r in first.refused] == ["https://mirror.qingya.example/art/2023/art_76002.html"]
    (following,) = first.next_pages  # 3 of 5 read: one more page
    assert (following.list_page, following.form["pageNo"], following.key) == (2, "2", HOST + JSON_API + "#page=2")

    last = read("json_api", JSON_API + "?page=2", "listing", reads="json", list_page=2)
    assert paths(last.reports) == ["/art/2023/art_76001.html", "/art/2022/art_64010.html"]
    assert last.next_pages == []  # 6 ≥ 5: the list is read to its end


def test_json_api_entry_page_is_read_as_a_static_page():
    entry = read("json_api", JSON_ENTRY, "listing")
    assert entry.reports == [] and entry.next_pages == []  # the shell: its list comes from the API


# --- hanweb_annual_report -----------------------------------------------------------


def test_hanweb_module_page_year_switches():
    page = read("hanweb_annual_report", hanweb_year(2023), "report")
    # the linked years (this page's own too: the crawl's duplicate filter drops it), and the years
    # switched to by selectYear(…) and the <select>
    assert sorted(paths(page.reports)) == sorted(hanweb_year(y) for y in (2023, 2022, 2021, 2020))
    assert paths(page.attachments) == ["/module/download/downfile.jsp?classid=0&filename=2403181.pdf"]
    # the province's report is off the allow-list: refused, with the reason, never followed
    assert [(r.kind, r.url.startswith("http://www.province-portal.example/")) for r in page.refused] == [("report", True)]


def test_hanweb_scripted_years_are_the_families_own():
    """trs_static reads the same page without the scripted year switches."""
    source = make_source("hanweb_annual_report")
    page = Page(url=HOST + hanweb_year(2023), kind="report",
                text=fixture_path("hanweb_annual_report", hanweb_year(2023)).read_text(encoding="utf-8"))
    static = family_for(make_source("trs_static")).read(source, page)
    assert sorted(paths(static.reports)) == sorted(hanweb_year(y) for y in (2023, 2022))


def test_hanweb_entry_is_a_report_page():
    source = make_source("hanweb_annual_report")
    assert [(f.url, f.kind) for f in family_for(source).start(source)] == [(HOST + hanweb_year(2023), "report")]


# --- generic ------------------------------------------------------------------------


def test_generic_column_pages_by_link_text():
    listing = read("generic", GENERIC_LIST, "listing")
    assert paths(listing.reports) == ["/web/content/2024-03/sl_1733.htm"]  # not the 解读, not the 预算
    # 2, 3, 下一页, 尾页 — not 按点击排序, not this page's own 1 and 首页
    assert paths(listing.next_pages) == [GENERIC_LIST + "?page=2", GENERIC_LIST + "?page=3"]
    assert listing.declared_items == 7

    last = read("generic", GENERIC_LIST + "?page=3", "listing")
    assert paths(last.reports) == ["/web/content/2022-03/sl_1105.htm"]
    assert paths(last.attachments) == ["/web/content/2022-03/sl_1101.doc"]  # titled as the report
    assert paths(last.next_pages) == [GENERIC_LIST, GENERIC_LIST + "?page=2"]


def test_generic_paging_is_not_trs_static():
    """trs_static follows index_N.html and createPageHTML only: this column's ?page=N links are the fallback's."""
    source = make_source("generic")
    page = Page(url=HOST + GENERIC_LIST, kind="listing",
                text=fixture_path("generic", GENERIC_LIST).read_text(encoding="utf-8"))
    assert family_for(make_source("trs_static")).read(source, page).next_pages == []


def test_generic_report_page_follows_no_paging():
    report = read("generic", "/web/content/2024-03/sl_1733.htm", "report")
    assert report.next_pages == [] and report.reports == [] and report.attachments == []


# --- each family's site, crawled end to end -----------------------------------------


def family_site_handler(family: str, requested: list[str]):
    """Serves tests/fixtures/families/<family>: a URL with a query is the file "<path>@<query>"
    (Hanweb's .jsp pages, generic ?page=N), a POST is the file "<path>@page=<page number>" as JSON."""
    root = FIXTURES / family

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def translate_path(self, path):
            route, _, query = path.partition("?")
            local = super().translate_path(route)
            return f"{local}@{unquote(query)}" if query else local

        def guess_type(self, path):
            guessed = mimetypes.guess_type(str(path))[0]
            return guessed or "text/html; charset=utf-8"

        def do_GET(self):
            requested.append(self.path)
            super().do_GET()

        def do_POST(self):
            form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
            api = SOURCES[family]["api"]
            requested.append(f"{self.path}?page={form[api['page_field']][0]}")
            assert form[api["size_field"]] == [str(api["page_size"])] and form["channelId"] == ["c8f1d2a07b"]
            body = fixture_path(family, f"{self.path}?page={form[api['page_field']][0]}").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(SOURCES))
def test_crawl_family_site(tmp_path, family):
    requested: list[str] = []
    registry = tmp_path / "sources.yaml"
    registry.write_text(yaml.safe_dump({"sources": [{
        "id": f"{family}-site", "name": "年度报告栏目", "family": family, "allowed_domains": ["127.0.0.1"],
        **SOURCES[family]}]}, allow_unicode=True), encoding="utf-8")
    with serving(family_site_handler(family, requested)) as base:
        done = run_crawl(["--sources", str(registry), "--archive", str(tmp_path / "archive"), "--run-id", family,
                          "--profile", "loopback", "--base-url", base, "--progress", "off"], timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]

    rows = pq.read_table(tmp_path / "archive" / "manifest" / f"crawl-{family}.parquet").to_pylist()

    def fetched(kind: str) -> set[str]:
        found = set()
        for row in rows:
            if row["kind"] == kind and row["status"] == 200:
                parts = urlsplit(row["url"])
                found.add(parts.path + (f"?{parts.query}" if parts.query else ""))
        return found

    expected = EXPECTED[family]
    assert fetched("report") == expected["report"]
    assert fetched("attachment") == expected["attachment"]
    assert fetched("listing") == expected["listing"]
    # nothing else was asked for but robots.txt (no notice, budget, 解读 or sort order)
    every_url = expected["report"] | expected["attachment"] | expected["listing"]
    if family == "json_api":  # the list API: one URL, POSTed once per page
        every_url = every_url - {JSON_API} | {f"{JSON_API}?page={n}" for n in (1, 2)}
    assert {u for u in requested if u != "/robots.txt"} == every_url
    summary = json.loads((tmp_path / "archive" / "manifest" / f"crawl-{family}.summary.json").read_text(encoding="utf-8"))
    assert summary["sources"][f"{family}-site"]["reports"] == len(expected["report"])
