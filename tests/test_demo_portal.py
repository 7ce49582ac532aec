"""The bundled demo portal: deterministic, realistic, and honest about its answer key."""
from __future__ import annotations

import filecmp
import json
import re
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pdfplumber
import pytest
import yaml

from demo_portal.generate import generate_portal, resolve_base
from demo_portal.server import serve_portal
from warehouse.facts import TABLE_DIMENSIONS, Fact

pytestmark = pytest.mark.slow  # generates the demo portal

APPLICANTS = ("natural_person", "commercial_enterprise", "research_institution", "public_welfare_org",
              "legal_service_org", "other_org")
OUTCOMES = (["granted", "partially_granted"]
            + [f"withheld_{k}" for k in ("state_secret", "prohibited_by_law", "security_stability", "third_party",
                                         "internal_affairs", "process_information", "enforcement_files", "query_matter")]
            + ["unavailable_not_held", "unavailable_needs_creation", "unavailable_unclear"]
            + [f"not_handled_{k}" for k in ("petition", "repeated", "publication", "excessive", "confirmation")])


@pytest.fixture(scope="module")
def portal(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("portal")
    started = time.process_time()  # CPU time: wall time depends on what else the machine runs
    generate_portal(out)
    assert time.process_time() - started < 3.0
    return out


@pytest.fixture(scope="module")
def key(portal) -> dict:
    return json.loads((portal / "answer_key.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def server(portal):
    with serve_portal(portal / "site") as srv:
        yield srv


def site_path(url: str) -> str:
    return url.replace("{BASE}/", "")


def decode(data: bytes) -> str:
    """Decode a page by the charset its <meta> declares (GB2312/GBK pages are GB18030 bytes)."""
    charset = re.search(rb"charset=([A-Za-z0-9-]+)", data).group(1).decode().lower()
    return data.decode("utf-8" if charset == "utf-8" else "gb18030")


def fetch(srv, url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(resolve_base(url, srv.base_url), timeout=10) as resp:
            return resp.status, resp.read(), resp.headers["Content-Type"]
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers["Content-Type"]


# ---------------------------------------------------------------- generator

def test_generation_is_deterministic(portal, tmp_path):
    generate_portal(tmp_path)
    for name in ("answer_key.json", "agencies.yaml", "sources.yaml"):
        assert (portal / name).read_bytes() == (tmp_path / name).read_bytes(), name
    files = sorted(p.relative_to(portal / "site") for p in (portal / "site").rglob("*") if p.is_file())
    again = sorted(p.relative_to(tmp_path / "site") for p in (tmp_path / "site").rglob("*") if p.is_file())
    assert files == again
    _, mismatch, errors = filecmp.cmpfiles(portal / "site", tmp_path / "site", [str(f) for f in files], shallow=False)
    assert not mismatch and not errors


def test_small_site(portal):
    size = sum(p.stat().st_size for p in portal.rglob("*") if p.is_file())
    assert size < 15_000_000


def test_registry(portal, key):
    registry = yaml.safe_load((portal / "agencies.yaml").read_text(encoding="utf-8"))["agencies"]
    assert len(registry) >= 16
    assert len({a["level"] for a in registry}) >= 4
    assert {a["level"] for a in registry} >= {"provincial", "prefecture", "county", "zone", "township", "department"}
    assert all(re.fullmatch(r"\d{6}", a["region_code"]) for a in registry)
    renamed = [a for a in registry if len(a["names"]) > 1]
    assert len(renamed) == 1
    old, new = renamed[0]["names"]
    assert max(old["years"]) <= 2018 < min(new["years"])
    printed = {(r["agency_id"], r["agency_name"]) for r in key["reports"]}
    assert (renamed[0]["agency_id"], old["name"]) in printed and (renamed[0]["agency_id"], new["name"]) in printed
    ids = {a["agency_id"] for a in registry}
    assert all(a["parent_agency_id"] in ids | {None} for a in registry)


def test_sources_placeholder(portal):
    sources = yaml.safe_load((portal / "sources.yaml").read_text(encoding="utf-8"))["sources"]
    assert sources[0]["entry_urls"] == ["{BASE}/"] and sources[0]["family"] == "trs_static"
    assert resolve_base("{BASE}/", "http://127.0.0.1:9/") == "http://127.0.0.1:9/"


def test_years_and_eras(key):
    reports = key["reports"]
    assert {r["report_year"] for r in reports} == set(range(2014, 2025))
    eras = Counter(r["era"] for r in reports)
    assert set(eras) == {"prose", "table_2019", "table_2021"}
    assert any(r["era"] == "table_2021" and r["report_year"] == 2020 for r in reports)  # early adopter
    assert any(r["era"] == "prose" and r["report_year"] == 2019 for r in reports)       # late adopter
    assert len({(r["agency_id"], r["report_year"]) for r in reports}) == len(reports)


def test_facts_are_valid_fact_json(key):
    for report in key["reports"]:
        assert report["facts"], report["urls"]
        for f in report["facts"]:
            a, b = TABLE_DIMENSIONS[f["table"]]
            fact = Fact(f["table"], {a: f[a], b: f[b]}, f["value"], f.get("label_zh", ""), f.get("source", ""),
                        f.get("unit"))
            assert fact.to_json() == f


def _requests(facts: list[dict]) -> dict:
    return {(f["row"], f["applicant"]): f["value"] for f in facts if f["table"] == "requests"}


def recompute_failures(report: dict) -> set[str]:
    """The identities of REPORT_FORMATS.md, recomputed from the key's facts alone."""
    failed = set()
    req = _requests(report["facts"])
    rev = {(f["proceeding"], f["result"]): f["value"] for f in report["facts"] if f["table"] == "reviews"}
    if report["era"] != "prose":
        other = (["other_no_correction", "other_fee_unpaid", "other_other"] if report["era"] == "table_2021"
                 else ["other_handling"])
        for col in APPLICANTS + ("total",):
            if req["received_new", col] + req["carried_over", col] != req["handled_total", col] + req["carried_forward", col]:
                failed.add(f"requests_balance_{col}")
            if sum(req[row, col] for row in OUTCOMES + other) != req["handled_total", col]:
                failed.add(f"requests_outcomes_{col}")
        rows = {row for row, _ in req}
        assert len(rows) == (25 if report["era"] == "table_2021" else 23)
        if any(sum(req[row, c] for c in APPLICANTS) != req[row, "total"] for row in rows):
            failed.add("requests_applicant_columns")
        assert len(rev) == 15
    for proc in ("reconsideration", "litigation_direct", "litigation_after_reconsideration", "litigation"):
        parts = [rev.get((proc, r)) for r in ("upheld", "corrected", "other", "pending")]
        if (proc, "total") in rev and any(p is not None for p in parts):
            if sum(p for p in parts if p is not None) != rev[proc, "total"]:
                failed.add(f"reviews_{proc}_total")
    return failed


def test_identities_hold_except_the_deliberate_ones(key):
    by_year = {(r["agency_id"], r["report_year"]): r for r in key["reports"]}
    deliberate = {}
    for report in key["reports"]:
        failed = recompute_failures(report)
        prev = by_year.get((report["agency_id"], report["report_year"] - 1))
        if prev and prev["era"] != "prose" and report["era"] != "prose":
            now, before = _requests(report["facts"]), _requests(prev["facts"])
            if any(now["carried_over", c] != before["carried_forward", c] for c in APPLICANTS + ("total",)):
                failed.add("requests_carry_over_across_years")
        assert failed == set(report["failing_checks"]), (report["agency_id"], report["report_year"])
        if failed:
            deliberate[(report["agency_id"], report["report_year"])] = failed
    assert len(deliberate) == 3
    kinds = set().union(*deliberate.values())
    assert {"requests_balance_total", "reviews_reconsideration_total", "requests_carry_over_across_years"} <= kinds


def test_scenarios_in_key(key):
    reports = key["reports"]
    assert sum(1 for r in reports if r["superseded_urls"]) == 1
    assert sum(1 for r in reports if len(r["urls"]) == 2) == 1
    assert sum(1 for r in reports if r["format"] == "pdf") >= 2
    assert sum(1 for r in reports if r["encoding"] in ("gbk", "gb2312")) >= 2
    assert len(key["broken_urls"]) == 1 and len(key["flaky_urls"]) == 1
    notice = [u for u in key["non_report_urls"]]
    assert len(notice) >= 16


# ---------------------------------------------------------------- site structure

def test_pagination_pages_exist_and_link_each_other(portal, key):
    site = portal / "site"
    columns = Counter(site_path(u).split("/")[0] for u in key["listing_urls"])
    assert len(columns) >= 16 and max(columns.values()) >= 2
    for column, count in columns.items():
        for i in range(count):
            name = "index.html" if i == 0 else f"index_{i}.html"
            text = decode((site / column / "zfxxgknb" / name).read_bytes())
            assert f'createPageHTML({count}, {i}, "index", "html")' in text
            if i + 1 < count:
                assert f'href="index_{i + 1}.html"' in text
            if i > 0:
                assert f'href="{"index.html" if i == 1 else f"index_{i - 1}.html"}"' in text
            assert len(re.findall(r'<tr valign="top">', text)) <= 8


def test_every_report_is_linked_from_a_listing(portal, key):
    site = portal / "site"
    linked = set()
    for u in key["listing_urls"]:
        path = site_path(u)
        text = decode((site / path).read_bytes())
        folder = path.rsplit("/", 1)[0]
        for href in re.findall(r'<a href="([^"]+)" target="_blank"', text):
            linked.add(href.lstrip("/") if href.startswith("/") else folder + "/" + href[2:])
    for report in key["reports"]:
        pages = report["landing_urls"] or report["urls"]
        for u in pages + report["superseded_urls"]:
            assert site_path(u) in linked, u
    assert {site_path(b["url"]) for b in key["broken_urls"]} <= linked
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "/admin/" in home
    assert "Disallow: /admin/" in (site / "robots.txt").read_text()


def test_report_pages_have_metadata_table_and_title(portal, key):
    for report in key["reports"][:40]:
        if report["format"] != "html":
            continue
        text = decode((portal / "site" / site_path(report["urls"][0])).read_bytes())
        first_table = text[text.index("<table"):text.index("</table>")]
        assert "索引号" in first_table and "发布机构" in first_table
        assert str(report["report_year"]) in report["title"] and report["agency_name"] in report["title"]


# ---------------------------------------------------------------- server

def test_server_serves_gbk_page(server, key):
    report = next(r for r in key["reports"] if r["encoding"] == "gbk")
    status, body, ctype = fetch(server, report["urls"][0])
    assert status == 200 and ctype == "text/html; charset=gbk"
    text = body.decode("gb18030")
    assert report["title"] in text
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


def test_server_faults(server, key):
    status, _, _ = fetch(server, key["broken_urls"][0]["url"])
    assert status == 404
    flaky = key["flaky_urls"][0]["url"]
    assert fetch(server, flaky)[0] == 500
    assert fetch(server, flaky)[0] == 200
    assert fetch(server, flaky)[0] == 200
    assert fetch(server, "{BASE}/_faults.json")[0] == 404
    assert fetch(server, "{BASE}/no/such/page.html")[0] == 404


def test_server_serves_pdf_with_text_and_tables(server, key, tmp_path):
    report = next(r for r in key["reports"] if r["format"] == "pdf")
    status, body, ctype = fetch(server, report["urls"][0])
    assert status == 200 and ctype == "application/pdf" and body.startswith(b"%PDF")
    (tmp_path / "r.pdf").write_bytes(body)
    with pdfplumber.open(tmp_path / "r.pdf") as pdf:
        text = "".join(page.extract_text() for page in pdf.pages)
        cells = [c for page in pdf.pages for t in page.extract_tables() for row in t for c in row if c]
    assert report["title"] in text and "本年新收政府信息公开申请数量" in text
    assert "一、本年新收政府信息公开申请数量" in cells and "结果维持" in cells
    landing = decode(fetch(server, report["landing_urls"][0])[1])
    assert "附件：" in landing and site_path(report["urls"][0]).rsplit("/", 1)[1] in landing


def test_server_robots_and_home(server):
    status, body, ctype = fetch(server, "{BASE}/robots.txt")
    assert status == 200 and b"Disallow: /admin/" in body and ctype.startswith("text/plain")
    status, body, ctype = fetch(server, "{BASE}/")
    assert status == 200 and ctype == "text/html; charset=utf-8" and "政府信息公开年报" in body.decode()


# ---------------------------------------------------------------- issue 14's formats

def test_other_formats_in_key(key):
    formats = {(r["agency_id"], r["report_year"]): r["format"] for r in key["reports"]}
    assert Counter(formats.values()) == {"html": 186, "pdf": 2, "scanned_pdf": 1, "image_html": 1, "xlsx": 1,
                                         "doc": 1, "wps": 1, "xls": 1}
    assert formats[("qcs-bgt", 2022)] == "scanned_pdf" and formats[("lzs-gaj", 2023)] == "image_html"
    assert formats[("lzs-yjj", 2021)] == "xlsx"
    assert formats[("qcs-zrzyt", 2022)] == "doc" and formats[("lz-gxq", 2021)] == "wps"
    assert formats[("lzs-czj", 2023)] == "xls"


def _report(key: dict, fmt: str) -> dict:
    return next(r for r in key["reports"] if r["format"] == fmt)


def test_scanned_pdf_has_no_text_layer(portal, key):
    import pypdfium2 as pdfium
    from PIL import Image

    report = _report(key, "scanned_pdf")
    data = (portal / "site" / site_path(report["urls"][0])).read_bytes()
    assert b"/DCTDecode" in data and len(report["landing_urls"]) == 1
    pdf = pdfium.PdfDocument(data)
    assert len(pdf) == 2
    for page in pdf:
        assert page.get_textpage().get_text_range().strip() == ""                  # image only
        assert round(page.get_width() / 72 * 200) == 1654                          # A4 at 200 dpi
    page = pdf[0].render(scale=200 / 72).to_pil().convert("L")
    tone = page.crop((0, 0, 60, 60)).resize((1, 1), 2).getpixel((0, 0))
    assert 150 < tone < 250                                                         # paper tone, not white
    assert isinstance(page, Image.Image)
    landing = decode((portal / "site" / site_path(report["landing_urls"][0])).read_bytes())
    assert report["urls"][0].rsplit("/", 1)[1] in landing and report["published_date"] in landing


def test_image_page_tables_are_images(portal, key):
    from PIL import Image

    report = _report(key, "image_html")
    page = decode((portal / "site" / site_path(report["urls"][0])).read_bytes())
    assert "<table" not in page.split('class="TRS_Editor"')[1] and "三、收到和处理政府信息公开申请情况" in page
    kinds = []
    for url in report["image_urls"]:
        name = url.rsplit("/", 1)[1]
        assert f'<img src="./{name}"' in page and f'<a href="./{name}"' in page
        with Image.open(portal / "site" / site_path(url)) as img:
            kinds.append(img.format)
            assert 1280 <= img.width <= 1300 and img.height > 150
    assert kinds == ["PNG", "JPEG", "PNG"]


def test_xlsx_attachment_holds_the_figures(portal, key):
    import openpyxl

    report = _report(key, "xlsx")
    wb = openpyxl.load_workbook(portal / "site" / site_path(report["urls"][0]))
    assert wb.sheetnames == ["二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
                             "四、政府信息公开行政复议、行政诉讼情况"]
    ws = wb["三、收到和处理政府信息公开申请情况"]
    assert ws["A1"].value == report["title"]
    row = next(r for r in ws.iter_rows(values_only=True) if r[0] == "一、本年新收政府信息公开申请数量")
    want = next(f["value"] for f in report["facts"]
                if f["table"] == "requests" and f["row"] == "received_new" and f["applicant"] == "total")
    assert row[-1] == want > 0
    assert len(ws.merged_cells.ranges) > 5


def test_missing_cjk_font_is_one_line(monkeypatch, tmp_path):
    import subprocess
    import sys

    from demo_portal import scan

    monkeypatch.setattr(scan, "FONT_CANDIDATES", (str(tmp_path / "none.ttc"),))
    monkeypatch.setenv(scan.FONT_ENV, str(tmp_path / "nothing.ttf"))
    scan.cjk_font_path.cache_clear()
    try:
        with pytest.raises(scan.FontMissing, match="fonts-wqy-zenhei"):
            scan.cjk_font_path()
    finally:
        scan.cjk_font_path.cache_clear()
    (tmp_path / "plain.ttf").write_bytes(b"not a font")
    code = ("import sys; from demo_portal import scan; scan.FONT_CANDIDATES = (); "
            "from demo_portal.__main__ import main; main(['generate', sys.argv[1]])")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "out")], capture_output=True, text=True,
                          env={**__import__("os").environ, scan.FONT_ENV: str(tmp_path / "plain.ttf")},
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("error: no font with Chinese glyphs") and len(done.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------- Word 97 / WPS / Excel 97 attachments (assets)

OLE2 = bytes.fromhex("d0cf11e0a1b11ae1")
OFFICE = {"doc": "application/msword", "wps": "application/octet-stream", "xls": "application/vnd.ms-excel"}


def test_office_attachments_are_served_from_the_committed_assets(server, key):
    from demo_portal import office

    for fmt, ctype in OFFICE.items():
        report = _report(key, fmt)
        assert len(report["urls"]) == 1 and len(report["landing_urls"]) == 1 and report["encoding"] is None
        url = report["urls"][0]
        assert url.endswith(f".{fmt}") and url.rsplit("/", 1)[1].startswith("P0")
        status, body, got_type = fetch(server, url)
        asset = office.ASSETS / office.asset_name(report["agency_id"], report["report_year"], fmt)
        assert status == 200 and got_type == ctype and body == asset.read_bytes() and body[:8] == OLE2
        assert 10_000 < len(body) < 100_000
        status, page, _ = fetch(server, report["landing_urls"][0])
        page = decode(page)
        assert status == 200 and f'href="./{url.rsplit("/", 1)[1]}"' in page and report["published_date"] in page
        if fmt == "xls":  # the page carries the text, the workbook the tables
            assert "一、总体情况" in page and "<table" not in page.split('class="TRS_Editor"')[1]


def test_office_attachments_parse_to_the_answer_key_exactly(portal, key):
    from demo_portal.verify import expected_facts, fact_key
    from warehouse.parse import parse_bytes

    for fmt in OFFICE:
        report = _report(key, fmt)
        path = portal / "site" / site_path(report["urls"][0])
        parsed = parse_bytes(path.read_bytes(), filename=path.name)
        assert parsed.input_kind == fmt
        assert (parsed.report_year, parsed.era) == (report["report_year"], "table_2021") == (
            report["report_year"], report["era"])
        got = {fact_key(f): float(f["value"]) for f in (x.to_json() for x in parsed.facts)}
        assert got == expected_facts(report) and len(got) == 200
    doc = _report(key, "doc")
    want = {fact_key(f): f["value"] for f in doc["facts"]}
    assert want[("requests", "received_new", "total")] > 0


def test_stale_office_asset_stops_with_one_line(monkeypatch, tmp_path, capsys):
    import shutil

    from demo_portal import office
    from demo_portal.__main__ import main

    assets = tmp_path / "assets"
    shutil.copytree(office.ASSETS, assets)
    manifest = json.loads((assets / "manifest.json").read_text(encoding="utf-8"))
    manifest["lzs-czj-2023.xls"]["figures_sha256"] = "0" * 64     # made from other figures
    (assets / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    monkeypatch.setattr(office, "ASSETS", assets)
    monkeypatch.setattr(office, "MANIFEST", assets / "manifest.json")
    figures = [Fact("requests", {"row": "granted", "applicant": "total"}, 3)]
    with pytest.raises(office.AssetStale, match="lzs-czj-2023.xls was made from other figures .* re-run .*make_office_assets"):
        office.load_asset("lzs-czj", 2023, "xls", "t", "table_2021", figures)
    (assets / "qcs-zrzyt-2022.doc").write_bytes(b"changed")
    with pytest.raises(office.AssetStale, match="differs from the one recorded"):
        office.load_asset("qcs-zrzyt", 2022, "doc", "t", "table_2021", figures)
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 1 and len(err.splitlines()) == 1
    assert err.startswith("error: demo_portal/assets/") and "make_office_assets" in err and "Traceback" not in err
