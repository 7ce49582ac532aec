"""spiders.discovery on a real column page (corpus 014), the saved pingtan column, and
pages written for the other families and for the traps."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from spiders.discovery import (
    classify_links,
    is_column_title,
    is_report_title,
    is_report_url,
)
from spiders.families.json_api import parse_json_list

PROJECT = Path(__file__).resolve().parents[1]
PAGES = PROJECT / "tests" / "fixtures" / "spider" / "pages"
SHARED = PROJECT.parent / "shared"
CORPUS = SHARED / "corpus"
PINGTAN = SHARED / "sites" / "pingtan-zfxxgknb"

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not available")

# --- titles -------------------------------------------------------------------------


@pytest.mark.parametrize("title", [
    "鄂尔多斯市2019年政府信息公开工作年度报告",
    "平潭综合实验区2025年度政府信息公开工作年度报告",
    "鄂尔多斯市2018年政府信息公开年度报告",
    "示范市财政局2019年度政府信息公开工作年报",
    "2019年政府信息公开年报",
    "某局2008年政府信息公开工作报告",
    "政府信息公开工作年度报告（2021年）",
    "二〇一九年度示范市政府信息公开工作年报",
    "示范市發展和改革委員會2020年政府資訊公開工作年度報告",
    "示范市２０２０年政府信息公开工作年度报告",
    "  示范市\n  2019年度  政府信息公开  工作年报 ",
])
def test_report_titles(title):
    assert is_report_title(title)


@pytest.mark.parametrize("title", [
    "关于做好2020年政府信息公开工作年度报告编制工作的通知",
    "关于报送2019年政府信息公开工作年度报告的通知",
    "关于2019年度政府信息公开工作年度报告发布情况的通报",
    "示范市2020年国民经济和社会发展统计公报",
    "示范市2020年部门预算公开",
    "示范市2019年部门决算",
    "2020年政府信息公开工作要点",
    "一图读懂示范市2020年政府信息公开工作年度报告",
    "2020年政府工作报告",
    "恩格贝生态示范区召开2020年度工作会暨党风廉政建设会议",
    "政府信息公开年报",          # a column, no year
    "政府信息公开工作年度报告格式",
    "",
])
def test_not_report_titles(title):
    assert not is_report_title(title)


@pytest.mark.parametrize("title,expected", [
    ("政府信息公开年报", True),
    ("信息公开年报", True),
    ("政府信息公开工作年度报告", True),
    ("政府資訊公開年報", True),
    ("年度报告", True),
    ("岚州高新技术产业开发区管理委员会政府信息公开年报", True),
    ("政府工作报告", False),
    ("信息公开指南", False),
    ("鄂尔多斯市2019年政府信息公开工作年度报告", False),
])
def test_column_titles(title, expected):
    assert is_column_title(title) is expected


def test_report_urls():
    assert is_report_url("http://www.qufu.gov.cn/module/xxgk/xxgkAnnualReport.jsp?area=11370881004339693X&fbtime=2012")
    assert is_report_url("https://tljq.gov.cn/openness/OpennessAnnualReport/show/2396.html")
    assert not is_report_url("http://www.qufu.gov.cn/module/xxgk/xxgkAnnualReport.jsp?area=1137")


def test_discovery_does_not_import_scrapy():
    code = ("import sys, spiders, spiders.discovery, spiders.sources, spiders.settings, spiders.families, spiders.gate; "
            "print('scrapy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- the real TRS column page (corpus 014) ------------------------------------------

ORDOS_COLUMN = "http://www.ordos.gov.cn/egb/xxgk/xxgknb/"


@needs_corpus
def test_ordos_column_page_reports_and_pagination():
    html = (CORPUS / "014-ordos-engebei-listing-page.html").read_text(encoding="utf-8")
    page_url = ORDOS_COLUMN + "index.html"
    links = classify_links(html, page_url, ["ordos.gov.cn"])

    assert {(link.url.removeprefix(ORDOS_COLUMN), link.title) for link in links.reports} == {
        ("202009/t20200903_2748784.html", "鄂尔多斯市2019年政府信息公开工作年度报告"),
        ("202003/t20200311_2593126.html", "鄂尔多斯市人民政府办公室2019年政府信息公开工作年度报告"),
        ("201905/t20190530_2380968.html", "鄂尔多斯市2018年政府信息公开年度报告"),
        ("201905/t20190530_2380967.html", "内蒙古自治区2018年政府信息公开工作年度报告"),
    }
    # the column has two pages (countPage=2 and the rendered links): the other one is found
    assert links.pagination == [ORDOS_COLUMN + "index_1.html"]
    assert links.attachments == []
    assert links.columns == []  # "./" 信息公开年报 is this very column
    # seen from page 2, page 1 is its pagination
    from_page_2 = classify_links(html, ORDOS_COLUMN + "index_1.html", ["ordos.gov.cn"])
    assert from_page_2.pagination == [ORDOS_COLUMN + "index.html"]
    # seen from the column's directory URL, index.html is the same page
    from_dir = classify_links(html, ORDOS_COLUMN, ["ordos.gov.cn"])
    assert from_dir.pagination == [ORDOS_COLUMN + "index_1.html"]


@needs_corpus
def test_ordos_column_page_default_allow_list_is_the_page_host():
    html = (CORPUS / "014-ordos-engebei-listing-page.html").read_text(encoding="utf-8")
    links = classify_links(html, ORDOS_COLUMN + "index.html")
    every_url = [link.url for link in links.reports + links.attachments + links.columns] + links.pagination
    assert every_url and all(url.startswith("http://www.ordos.gov.cn/") for url in every_url)


@pytest.mark.skipif(not PINGTAN.is_dir(), reason="shared/sites not available")
def test_pingtan_column_declares_more_items_than_it_lists():
    page_url = "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/"
    links = classify_links((PINGTAN / "index.html").read_bytes(), page_url, ["www.pingtan.gov.cn"])
    assert len(links.reports) == 10
    assert all(link.url.startswith(page_url) for link in links.reports)
    assert links.declared_item_count == 20
    every_url = [link.url for link in links.reports + links.attachments + links.columns] + links.pagination
    assert not any("ipv6best.cn" in url for url in every_url)


# --- traps --------------------------------------------------------------------------

TRAPS_URL = "http://www.demo.gov.cn/xxgk/nb/index_1.shtml"


def test_traps_page():
    links = classify_links((PAGES / "traps.html").read_text(encoding="utf-8"), TRAPS_URL, ["www.demo.gov.cn"])
    base = "http://www.demo.gov.cn/xxgk/nb/"
    assert [link.url.removeprefix(base) for link in links.reports] == [
        "202101/t1.html", "202101/t2.html", "202001/t3.html", "202001/t4.html",
    ]
    assert links.reports[3].title == "示范市财政局 2019年度 政府信息公开 工作年报"
    every_url = [link.url for link in links.reports + links.attachments + links.columns] + links.pagination
    assert not any(u.startswith(("javascript:", "mailto:", "ftp:")) or "#" in u for u in every_url)
    assert not any("other-city" in u or "sub.demo" in u for u in every_url)
    assert {(a.url.removeprefix(base), a.title) for a in links.attachments} == {
        ("files/2019report.pdf", "示范市2019年政府信息公开工作年度报告（PDF版）"),
        ("files/notice.docx", "附件1：报告格式"),
    }
    assert {c.url for c in links.columns} == {"http://www.demo.gov.cn/xxgk/", "http://www.demo.gov.cn/zwgk/xxgkndbg/"}
    # createPageHTML('page_div', 4, 1, 'index', 'shtml', 62): four pages, this is the second
    assert links.pagination == [base + "index.shtml", base + "index_2.shtml", base + "index_3.shtml"]


def test_traps_page_subdomains_follow_the_allow_list():
    links = classify_links((PAGES / "traps.html").read_text(encoding="utf-8"), TRAPS_URL, ["demo.gov.cn"])
    assert "https://sub.demo.gov.cn/2020/t10.html" in {link.url for link in links.reports}


# --- other families -----------------------------------------------------------------


def test_json_list_api():
    api_url = "https://www.chinatax.gov.cn/getFileListByCodeId"
    page = parse_json_list((PAGES / "chinatax-getFileListByCodeId.json").read_bytes(), api_url, ["chinatax.gov.cn"])
    assert page.total == 32
    assert [(link.url, link.title) for link in page.reports] == [
        ("https://www.chinatax.gov.cn/chinatax/n810214/c102384r/c5222101/content.html",
         "国家税务总局2023年政府信息公开工作年度报告"),
        ("https://www.chinatax.gov.cn/chinatax/n810214/c102384r/c5209650/content.html",
         "国家税务总局2022年政府信息公开工作年度报告"),  # titleHtml without its markup, URL resolved
    ]
    assert len(page.items) == 3  # the notice is listed but is no report; the mirror is off-domain


def test_hanweb_annual_report_page():
    page_url = "http://www.qufu.gov.cn/module/xxgk/xxgkAnnualReport.jsp?area=11370881004339693X&fbtime=2012"
    links = classify_links((PAGES / "hanweb-annual-report.html").read_text(encoding="utf-8"), page_url, ["qufu.gov.cn"])
    years = sorted(link.url.rsplit("fbtime=", 1)[1] for link in links.reports)
    assert years == ["2011", "2012", "2013"]  # the #table2 link is this page; jining is off-domain
    assert all(link.url.startswith("http://www.qufu.gov.cn/module/xxgk/xxgkAnnualReport.jsp?area=") for link in links.reports)
    assert {a.url for a in links.attachments} == {
        "http://www.qufu.gov.cn/module/download/downfile.jsp?classid=0&filename=1303251.pdf",
        "http://www.qufu.gov.cn/picture/0/1303251.doc",
    }
