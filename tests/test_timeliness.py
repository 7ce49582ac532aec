"""Timeliness: the deadlines of the two regulations (warehouse.deadlines), the publication date and
where it came from (page, signature, URL), and mart_report_timeliness / mart_scorecard built from
hand-made parsed rows: on time, late, missing, date unknown, not expected (established, abolished,
not yet due)."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.hand_warehouse import Agency, Report, as_dicts, build, query
from warehouse.deadlines import date_from_url, deadline, deadline_rows, rule_for
from warehouse.parse.documents import Document
from warehouse.parse.metadata import detect_published
from warehouse.stages.build import load_models, render


# ---------------------------------------------------------------- the rules

@pytest.mark.parametrize("year, level, due, regulation", [
    (2008, "department", dt.date(2009, 3, 31), "2008"),
    (2018, "department", dt.date(2019, 3, 31), "2008"),     # 2008 regulation: 31 March for every body
    (2018, "county", dt.date(2019, 3, 31), "2008"),
    (2019, "department", dt.date(2020, 1, 31), "2019"),     # 2019 regulation, art. 49: departments 31 January
    (2019, "county", dt.date(2020, 3, 31), "2019"),         # the governments' own reports 31 March
    (2024, "township", dt.date(2025, 3, 31), "2019"),
    (2024, "zone", dt.date(2025, 3, 31), "2019"),
    (2024, None, dt.date(2025, 3, 31), "2019"),             # unknown level: the later deadline
])
def test_deadlines_of_the_two_regulations(year, level, due, regulation):
    assert deadline(year, level) == due
    assert rule_for(year, level).regulation == regulation


def test_no_deadline_before_the_first_regulation():
    assert deadline(2007, "county") is None and rule_for(2007, "department") is None


def test_the_rules_reach_sql_through_the_build_placeholder(tmp_path):
    sql = render(load_models()["mart_report_timeliness"].sql, tmp_path)
    assert "{{" not in sql
    assert "('2019', 2019, 9999, 'departments', 1, 31)" in sql
    assert "('2008', 2008, 2018, 'all', 3, 31)" in sql
    assert len(deadline_rows()) == 3


# ---------------------------------------------------------------- dates in URLs

@pytest.mark.parametrize("url, date", [
    ("https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/201204/t20120420_80678.htm", "2012-04-20"),   # TRS
    ("http://www.example.gov.cn/art/2022/1/25/art_1229_5012.html", "2022-01-25"),                   # Hanweb art
    ("https://shanghai.gov.cn/nw12344/20230331/4a03b5fa47ae4c73b7ec42801de6be66.html", "2023-03-31"),
    ("http://www.example.gov.cn/xxgk/2021-01/25/content_5582.htm", "2021-01-25"),
    ("http://www.example.gov.cn/xxgk/2020/03/31/12345.html", "2020-03-31"),
    ("http://www.example.gov.cn/zwgk/20220125123456.html", "2022-01-25"),
    ("http://www.example.gov.cn/zfxxgknb/202401/P020240114135132.pdf", "2024-01-14"),                # TRS attachment
])
def test_date_from_url(url, date):
    assert date_from_url(url) == date


@pytest.mark.parametrize("url", [
    "https://www.example.gov.cn/zwgk/ndbg/202201/index.html",   # a month folder does not say the day
    "https://www.example.gov.cn/zwgk/ndbg/202213/t20221345_1.html",   # no such day
    "https://www.example.gov.cn/zwgk/ndbg/content_88123.html",
    None,
])
def test_no_date_from_url(url):
    assert date_from_url(url) is None


# ---------------------------------------------------------------- where the page's date comes from

def doc(text: str, **meta) -> Document:
    return Document(kind="text", text=text, meta=meta)


@pytest.mark.parametrize("text, meta, found", [
    ("标题: 2020年政府信息公开工作年度报告\n发布时间: 2021-01-18 10:00\n==== 正文 ====\n主动公开6条。", {},
     ("2021-01-18", "page_field")),
    ("鞍山高新区2014年政府信息公开报告\n    时间:2015-03-11 11:14来源:鞍山高新区管委会\n主动公开6条。", {},
     ("2015-03-11", "page_field")),
    ("2020年政府信息公开工作年度报告\n主动公开6条。", {"PubDate": "2021-02-03 09:00"}, ("2021-02-03", "page_field")),
    ("索引号：001\n成文日期：2021年1月20日\n2020年政府信息公开工作年度报告\n主动公开6条。", {},
     ("2021-01-20", "signed_date")),
    ("2020年政府信息公开工作年度报告\n主动公开6条。\n青禾县水利局\n2021年3月2日", {}, ("2021-03-02", "signed_date")),
    ("2020年政府信息公开工作年度报告\n主动公开6条。\n青禾县水利局\n二〇二一年三月二日", {}, ("2021-03-02", "signed_date")),
    ("2020年政府信息公开工作年度报告\n统计时间：2020-01-01至2020-12-31\n一、总体情况\n主动公开6条。\n二、其他\n无。", {},
     (None, None)),
    # a closing line dating the figures is not the signature's date
    ("2020年政府信息公开工作年度报告\n主动公开6条。\n青禾县水利局\n2021年3月2日\n（统计时间：2020年1月1日至2020年12月31日）", {},
     ("2021-03-02", "signed_date")),
    ("2020年政府信息公开工作年度报告\n主动公开6条。\n本报告数据统计截至2020年12月31日。", {}, (None, None)),
    ("2020年政府信息公开工作年度报告\n主动公开6条。\n青禾县水利局\n2020年12月31日", {}, ("2020-12-31", "signed_date")),
])
def test_published_date_and_its_source(text, meta, found):
    assert detect_published(doc(text, **meta)) == found


# ---------------------------------------------------------------- the date the parse stage keeps

FETCH = {"url": "http://127.0.0.1:8799/zfxxgknb/202401/P020240114135132.pdf", "final_url": None}
PAGE = "http://127.0.0.1:8799/zfxxgknb/202401/t20240115_1.html"


@pytest.mark.parametrize("doc_date, landing, found", [
    (("2024-01-10", "page_field"), ("2024-01-15", "page_field", PAGE), ("2024-01-10", "page_field")),
    (("2024-01-10", "signed_date"), ("2024-01-15", "page_field", PAGE), ("2024-01-15", "page_field")),
    (("2024-01-10", "signed_date"), (None, None, PAGE), ("2024-01-10", "signed_date")),
    ((None, None), ("2024-01-15", "signed_date", PAGE), ("2024-01-15", "signed_date")),
    ((None, None), (None, None, PAGE), ("2024-01-14", "url_path")),       # the attachment's own URL first
    ((None, None), None, ("2024-01-14", "url_path")),
])
def test_publication_date_of_an_attachment_asks_its_landing_page(doc_date, landing, found):
    from warehouse.stages.parse_archive import publication_date

    doc = dict(zip(("published_date", "published_date_source"), doc_date))
    assert publication_date(doc, FETCH, landing) == found


def test_publication_date_from_the_landing_page_url():
    from warehouse.stages.parse_archive import publication_date

    fetch = {"url": "http://127.0.0.1:8799/download/file.pdf", "final_url": None}
    assert publication_date({}, fetch, (None, None, PAGE)) == ("2024-01-15", "url_path")
    assert publication_date({}, fetch, None) == (None, None)


# ---------------------------------------------------------------- the mart, from hand-made rows

AGENCIES = [
    Agency("g", "岚州市枫林县人民政府", "county"),
    Agency("d", "枫林县教育局", "department", parent="g"),
    Agency("new", "枫林县数据局", "department", parent="g", established=2020),
    Agency("old", "枫林县粮食局", "department", parent="g", abolished=2020),
    Agency("x", "枫林县某中心", "department", in_registry=False),
]
REPORTS = [
    Report("g18", "g", 2018, [("/g/201903/t20190331_1.html", "2019-03-31 02:00", "2019-03-31 02:00")],
           era="prose", published="2019-03-31", source="page_field"),
    Report("g19", "g", 2019, [("/g/2019.html", "2020-04-02 02:00", "2020-04-02 02:00")],
           era="table_2019", published="2020-03-31", source="signed_date"),
    # a 更正版 published after the deadline: the year's report was first published in time
    Report("g19c", "g", 2019, [("/g/2019-gzb.html", "2020-05-02 02:00", "2020-05-02 02:00")],
           era="table_2019", published="2020-05-01", source="page_field", correction=True),
    # no stated date; first fetched 2021-03-30 17:00 UTC = 31 March 01:00 in China: by the deadline
    Report("g20", "g", 2020, [("/g/2020.html", "2021-03-30 17:00", "2021-03-30 17:00")]),
    # no stated date, first seen after the deadline: date unknown, never guessed
    Report("g21", "g", 2021, [("/g/2021.html", "2022-04-01 02:00", "2022-04-01 02:00")]),
    # a report of 2022 seen early: the data's clock stops at 2023-01-15
    Report("g22", "g", 2022, [("/g/2022.html", "2023-01-15 02:00", "2023-01-15 02:00")]),
    Report("d18", "d", 2018, [("/d/2018.html", "2019-04-02 02:00", "2019-04-02 02:00")],
           era="prose", published="2019-03-30", source="page_field"),
    Report("d19", "d", 2019, [("/d/2019.html", "2020-02-03 02:00", "2020-02-03 02:00")],
           era="table_2019", published="2020-02-01", source="page_field"),
    Report("d20", "d", 2020, [("/d/202101/t20210120_7.html", "2021-02-05 02:00", "2021-02-05 02:00")],
           published="2021-01-20", source="url_path"),
    Report("new21", "new", 2021, [("/new/2021.html", "2022-01-10 02:00", "2022-01-10 02:00")],
           published="2022-01-10", source="page_field"),
    Report("old18", "old", 2018, [("/old/2018.html", "2019-03-01 02:00", "2019-03-01 02:00")],
           era="prose", published="2019-03-01", source="page_field"),
    Report("x19", "x", 2019, [("/x/2019.html", "2020-01-10 02:00", "2020-01-10 02:00")],
           era="table_2019", published="2020-01-10", source="page_field"),
    # a 'date' before the report year began is not the report's: no stated date, seen late
    Report("x21", "x", 2021, [("/x/2021.html", "2022-06-01 02:00", "2022-06-01 02:00")],
           published="2020-05-01", source="page_field"),
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return build(tmp_path_factory.mktemp("timeliness"), AGENCIES, REPORTS)


def timeliness(db) -> dict[tuple[str, int], dict]:
    return {(r["agency_id"], r["report_year"]): r for r in as_dicts(db, "select * from mart_report_timeliness")}


@pytest.mark.slow
def test_status_of_every_expected_year(warehouse):
    rows = timeliness(warehouse)
    status = {key: (r["status"], r["date_source"], r["days_late"]) for key, r in rows.items()}
    assert status == {
        ("g", 2018): ("on_time", "page_field", 0),
        ("g", 2019): ("on_time", "signed_date", 0),      # governments: 31 March under 2019 too
        ("g", 2020): ("on_time", "first_crawl", None),
        ("g", 2021): ("date_unknown", None, None),
        ("g", 2022): ("on_time", "first_crawl", None),
        ("d", 2018): ("on_time", "page_field", -1),      # 2008 regulation: 31 March for departments too
        ("d", 2019): ("late", "page_field", 1),          # 2019 regulation: departments by 31 January
        ("d", 2020): ("on_time", "url_path", -11),
        ("d", 2021): ("missing", None, None),
        # ("d", 2022) is not yet due: its deadline (2023-01-31) is after the data's last fetch (2023-01-15)
        ("new", 2020): ("missing", None, None),          # established 2020: not expected in 2018-2019
        ("new", 2021): ("on_time", "page_field", -21),
        ("old", 2018): ("on_time", "page_field", -30),
        ("old", 2019): ("missing", None, None),          # abolished 2020: nothing owed for 2020 on
        ("x", 2019): ("on_time", "page_field", -21),     # not in the registry: its span of reports only
        ("x", 2020): ("missing", None, None),
        ("x", 2021): ("date_unknown", None, None),
    }
    assert rows[("g", 2020)]["published_date"] == dt.date(2021, 3, 31)
    assert rows[("g", 2021)]["published_date"] is None
    assert rows[("d", 2019)]["deadline"] == dt.date(2020, 1, 31) and rows[("d", 2019)]["regulation"] == "2019"
    assert rows[("d", 2018)]["regulation"] == "2008"
    assert rows[("x", 2021)]["published_date"] is None
    assert rows[("d", 2020)]["url"] == "http://127.0.0.1:8799/d/202101/t20210120_7.html"
    correction = next(r for r in REPORTS if r.tag == "g19c")
    assert (rows[("g", 2019)]["report_id"], rows[("g", 2019)]["published_date"]) == (
        correction.report_id, dt.date(2020, 3, 31))


@pytest.mark.slow
def test_dim_report_and_dim_agency_carry_the_new_fields(warehouse):
    [(source, first_seen)] = query(warehouse, "select published_date_source, first_seen_at from dim_report "
                                              "where agency_id = 'd' and report_year = 2020")
    assert source == "url_path" and first_seen.isoformat() == "2021-02-05T02:00:00+00:00"
    assert query(warehouse, "select established, abolished from dim_agency where agency_id in ('new', 'old') "
                            "order by agency_id") == [(2020, None), (None, 2020)]


@pytest.mark.slow
def test_scorecard_rows_and_weighting(warehouse):
    rows = {(r["agency_id"], r["report_year"]): r for r in as_dicts(warehouse, "select * from mart_scorecard")}
    assert len(rows) == 16 and set(rows) == set(timeliness(warehouse))
    missing = rows[("d", 2021)]
    assert (missing["score"], missing["published_on_time"], missing["sections_present"]) == (0.0, False, 0)
    assert missing["sections_expected"] == 3          # table_2021: tables 二, 三, 四
    assert rows[("g", 2021)]["published_on_time"] is None   # date unknown
    # no facts, no checks, on time: 30 + 0 + 10 (no identity ran) + 5 (nothing compared) + 0
    assert rows[("g", 2020)]["score"] == 45.0
    assert rows[("d", 2019)]["score"] == 25.0          # late: 10 + 10 + 5


def test_the_dictionary_declares_the_columns_of_every_oversight_model():
    from warehouse.oversight import MODEL_COLUMNS, dictionary_markdown_sections

    models = load_models()
    for model, columns in MODEL_COLUMNS.items():
        assert tuple(c.key for c in columns) == models[model].contract.columns, model
    text = "\n".join(dictionary_markdown_sections())
    assert "## Columns of `mart_scorecard`" in text and "| `days_late` | 逾期天数 |" in text


def test_the_registry_states_when_a_body_existed(tmp_path):
    from warehouse.agencies import AgencyRegistry

    path = tmp_path / "agencies.yaml"
    path.write_text("""agencies:
  - agency_id: lzs-yjj
    names: [岚州市应急管理局]
    level: department
    established: 2019
  - agency_id: lzs-ajj
    names: [{name: 岚州市安全生产监督管理局, years: [2014, 2015]}]
    level: department
    abolished: 2019-03-01
  - agency_id: lzs
    names: [岚州市人民政府]
    level: prefecture
""", encoding="utf-8")
    rows = {r["agency_id"]: (r["established"], r["abolished"]) for r in AgencyRegistry.from_yaml(path).rows({})}
    assert rows == {"lzs-yjj": (2019, None), "lzs-ajj": (None, 2019), "lzs": (None, None)}
