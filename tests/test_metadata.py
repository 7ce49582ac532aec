"""Era, report year, agency, title and publish date from content."""
from pathlib import Path

import pytest

from warehouse.parse.documents import Document
from warehouse.parse.metadata import (
    detect_agency, detect_era, detect_published_date, detect_title, detect_year, is_listing_page,
)

FIXTURES = Path(__file__).parent / "fixtures" / "prose"


def doc(text: str, **kw) -> Document:
    return Document(kind="text", text=text, **kw)


def test_prose_fixture_metadata():
    d = doc((FIXTURES / "river_county_water_bureau_2011.txt").read_text(encoding="utf-8"))
    assert detect_era(d) == "prose"
    assert detect_year(d) == 2011
    assert detect_agency(d) == "青禾县水利局"
    assert detect_title(d) == "青禾县水利局2011年政府信息公开工作年度报告"
    assert detect_published_date(d) == "2012-03-20"


@pytest.mark.parametrize("text,era", [
    ("2021年政府信息公开工作年度报告\n规章 本年制发件数 本年废止件数 现行有效件数", "table_2021"),
    ("依据国办公开办函〔202130号编制政府信息公开工作年度报告。主动公开", "table_2021"),
    ("2019年政府信息公开工作年度报告\n本年新制作数量 本年新公开数量 对外公开总数量\n本年新收政府信息公开申请数量", "table_2019"),
    ("2020年政府信息公开工作年度报告\n一、总体情况\n（二）政府信息依申请公开情况\n本年新制作数量", "table_2019"),
    ("2021年政府信息公开工作年度报告\n三、收到和处理政府信息公开申请情况\n（表格为图片）", "table_2021"),
    ("2012年政府信息公开工作年度报告\n一、主动公开政府信息情况\n主动公开政府信息12条。", "prose"),
    ("2012年政府信息公開工作年度報告\n一、主動公開政府信息情況\n主動公開政府信息12條。", "prose"),
    ("本站首页 新闻 天气预报", None),
])
def test_era_from_content(text, era):
    assert detect_era(doc(text)) == era


def test_year_is_the_year_reported_on_not_the_publish_date():
    d = doc("标题: 2015年政府信息公开工作年度报告\n发布时间: 2018-12-25 10:00\n==== 正文 ====\n2015年度主动公开政府信息6条。")
    assert detect_year(d) == 2015
    assert detect_published_date(d) == "2018-12-25"


def test_year_from_the_statistics_period_with_dropped_characters():
    assert detect_year(doc("各项数据统计起止时间为202411日至1231日。依据〔2021〕30号")) == 2024


def test_year_from_the_opening_when_no_title():
    d = doc("一、概述\n2009年，我局继续开展政府信息公开工作。截至2009年底运行正常。依据〔2008〕5号")
    assert detect_year(d) == 2009


def test_agency_from_meta_opening_and_signature():
    assert detect_agency(doc("本报告由北川县统计局编制。", meta={"发布机构": "北川县统计局"})) == "北川县统计局"
    assert detect_agency(doc("本年度报告由南岭区审计局编制。全文包括主动公开政府信息情况。")) == "南岭区审计局"
    assert detect_agency(doc("一、主动公开政府信息情况\n主动公开3条。\n西河镇人民政府\n2014年3月1日")) == "西河镇人民政府"


def test_agency_is_none_when_never_named_or_spam():
    assert detect_agency(doc("2015年政府信息公开工作年度报告\n我局主动公开政府信息6条。")) is None
    assert detect_agency(doc("x", meta={"发布机构": "某某博彩官网区人民政府"})) is None


def test_title_split_over_two_lines():
    d = doc("南山区文体局2013年度信息公开工作\n年度报告\n一、主动公开政府信息情况")
    assert detect_title(d) == "南山区文体局2013年度信息公开工作年度报告"
    assert detect_agency(d) == "南山区文体局"


def test_listing_page_is_no_report():
    rows = "\n".join(f'<a href="./{y}/t.html">某市{y}年政府信息公开工作年度报告</a> {y + 1}-01-20' for y in range(2015, 2021))
    d = doc(rows + "\n共计 2 页 下一页")
    assert is_listing_page(d.text)
    assert detect_era(d) is None and detect_year(d) is None
