"""Figures stated in words, in wording from anywhere in the country (issue: unseen reports).

Fixtures are written for the project; the property tests vary the wording of one statement
at a time inside a report skeleton and check the figure (or the stated zero) is read.
"""
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warehouse.parse import parse_bytes, parse_file

FIXTURES = Path(__file__).parent / "fixtures" / "prose"


def figures(report) -> dict:
    return {f.key: f for f in report.facts}


def value(report, table: str, a: str, b: str):
    fact = figures(report).get((table, a, b))
    return fact.value if fact else None


def parse_text(text: str):
    return parse_bytes(text.encode("utf-8"), filename="report.txt")


# ---------------------------------------------------------------- fixtures

def test_table_era_report_whose_tables_are_lost_states_its_figures_in_words():
    report = parse_file(FIXTURES / "cedar_town_2021_tables_lost.txt")
    # era from the 2019 outline and the year; year from the report's own quoted name,
    # not from its mistyped statistics period (2020)
    assert (report.era, report.report_year) == ("table_2021", 2021)
    assert report.agency_name == "青杉镇人民政府"
    assert value(report, "proactive", "all_items", "count") == 386           # 发布政务信息共计386条
    assert value(report, "proactive", "all_items", "published_total") == 4120  # 截至…累计: to date
    assert value(report, "proactive", "website_posts", "count") == 386
    assert value(report, "proactive", "new_media_posts", "count") == 95
    assert value(report, "proactive", "press_conferences", "count") == 2
    assert value(report, "proactive", "policy_interpretations", "count") == 9
    assert value(report, "requests", "received_new", "total") == 0             # 尚未收到…申请
    assert value(report, "requests", "carried_over", "total") == 0
    assert value(report, "reviews", "reconsideration", "total") == 0
    # a table era splits lawsuits in two: 'no lawsuits' states both
    assert value(report, "reviews", "litigation_direct", "total") == 0
    assert value(report, "reviews", "litigation_after_reconsideration", "total") == 0
    # distractors of the same section are not figures: 保密审查48次, 培训36人次
    assert {f.value for f in report.facts} <= {386, 4120, 95, 2, 9, 0}


def test_traditional_mirror_gives_the_simplified_report_figures_with_printed_labels():
    mirror = parse_file(FIXTURES / "pine_county_mirror_2015.txt")
    original = parse_file(FIXTURES / "pine_county_2015_simplified.txt")
    assert (mirror.era, mirror.report_year) == (original.era, original.report_year) == ("prose", 2015)
    assert {k: (f.value, f.approximate) for k, f in figures(mirror).items()} == \
           {k: (f.value, f.approximate) for k, f in figures(original).items()}
    normative = figures(mirror)[("proactive", "normative_documents", "count")]
    assert (normative.value, normative.label_zh) == (6, "規範性檔案")  # Taiwan term for 规范性文件, as printed
    text = (FIXTURES / "pine_county_mirror_2015.txt").read_text(encoding="utf-8")
    start, end = map(int, normative.source.removeprefix("text!").split("-"))
    assert text[start:end].startswith("規範性檔案6")
    items = figures(mirror)[("proactive", "all_items", "count")]
    assert (items.value, items.approximate) == (755, True)                 # 755多条
    assert value(mirror, "proactive", "all_items", "published_total") == 5210  # 历年累计
    assert value(mirror, "requests", "received_new", "total") == 12          # 12起
    assert mirror.title == "松嶺縣交通運輸局2015年政府信息公開工作年度報告"


def test_prose_and_table_that_disagree_fail_statements_agree_with_both_figures():
    text = ("梧桐区统计局2020年政府信息公开工作年度报告\n一、总体情况\n(一)主动公开情况\n全年主动公开政府信息88条。\n"
            "(二)依申请公开情况\n本年度共收到政府信息公开申请7件。\n"
            "三、收到和处理政府信息公开申请情况\n"
            "一、本年新收政府信息公开申请数量 | 5 | 0 | 0 | 0 | 0 | 0 | 5\n"
            "二、上年结转政府信息公开申请数量 | 0 | 0 | 0 | 0 | 0 | 0 | 0\n")
    report = parse_text(text)
    assert report.era == "table_2019"
    assert value(report, "requests", "received_new", "total") == 5          # the table wins
    (agree,) = [c for c in report.checks if c.check_name == "statements_agree"]
    assert not agree.passed and (agree.expected, agree.actual) == (5, 7)
    assert "received_new/total: 5 (table text!" in agree.detail and "vs 7 (text text!" in agree.detail


def test_figures_stated_twice_alike_pass_statements_agree():
    text = ("梧桐区统计局2020年政府信息公开工作年度报告\n一、总体情况\n(一)主动公开情况\n全年主动公开政府信息88条。\n"
            "(二)依申请公开情况\n本年度共收到政府信息公开申请5件。\n三、收到和处理政府信息公开申请情况\n"
            "一、本年新收政府信息公开申请数量 | 5 | 0 | 0 | 0 | 0 | 0 | 5\n")
    (agree,) = [c for c in parse_text(text).checks if c.check_name == "statements_agree"]
    assert agree.passed


def test_outcome_denials_and_lawsuit_kinds_are_not_zero_reviews():
    text = ("柳岸县司法局2021年政府信息公开工作年度报告\n一、总体情况\n(一)主动公开情况\n主动公开政府信息40条。\n"
            "(二)依申请公开情况\n收到政府信息公开申请3件，全年未发生因依申请公开被行政复议纠错或行政诉讼败诉情形。\n"
            "四、政府信息公开行政复议、行政诉讼情况\n行政复议 | 行政诉讼\n未经复议直接起诉 | 复议后起诉\n")
    report = parse_text(text)
    assert value(report, "reviews", "reconsideration", "total") is None
    assert value(report, "reviews", "litigation_direct", "total") is None


# ---------------------------------------------------------------- wording varied

PROSE_HEAD = "江畔县水务局2016年政府信息公开工作年度报告\n一、概述\n本局认真落实条例要求。\n二、主动公开政府信息情况\n"
PROSE_TAIL = "\n三、依申请公开政府信息情况\n本年度收到政府信息公开申请4件。\n"
TABLE_HEAD = ("江畔县水务局2022年政府信息公开工作年度报告\n一、总体情况\n(一)主动公开情况\n")
TABLE_TAIL = "\n(二)依申请公开情况\n本年度收到政府信息公开申请4件。\n二、主动公开政府信息情况\n"


@settings(max_examples=60, deadline=None)
@given(
    era_frame=st.sampled_from([(PROSE_HEAD, PROSE_TAIL, "prose"), (TABLE_HEAD, TABLE_TAIL, "table_2021")]),
    subject=st.sampled_from(["", "本局", "全年", "2016年，我局"]),
    verb=st.sampled_from(["主动公开", "公开", "发布", "主动公开、更新", "通过政府网站主动公开"]),
    kind=st.sampled_from(["", "各类", "政府", "政务", "各类政府"]),
    filler=st.sampled_from(["", "共", "共计", "合计"]),
    number=st.integers(min_value=1, max_value=99999),
    approx=st.sampled_from(["", "多", "余"]),
    unit=st.sampled_from(["条", "件"]),
    cumulative=st.booleans(),
)
def test_year_items_read_whatever_the_wording(era_frame, subject, verb, kind, filler, number, approx, unit, cumulative):
    head, tail, era = era_frame
    sentence = f"{subject}{verb}{kind}信息{filler}{number}{approx}{unit}"
    if cumulative:  # a figure to date beside the year's
        sentence += f"，累计主动公开政府信息{number + 1000}条"
    report = parse_text(head + sentence + "。" + tail)
    assert report.era == era
    items = figures(report)[("proactive", "all_items", "count")]
    assert (items.value, items.approximate) == (number, bool(approx))
    if cumulative:
        assert value(report, "proactive", "all_items", "published_total") == number + 1000


@settings(max_examples=60, deadline=None)
@given(
    era_frame=st.sampled_from([("二〇一五", "一、概述\n概况。\n三、依申请公开政府信息情况\n", "prose"),
                               ("2022", "一、总体情况\n(一)主动公开情况\n主动公开信息30条。\n(二)依申请公开情况\n", "table_2021")]),
    subject=st.sampled_from(["", "本年度", "我镇", "2022年，本机关"]),
    negation=st.sampled_from(["未", "尚未", "没有", "未曾"]),
    verb=st.sampled_from(["收到", "接到", "受理", "收到过"]),
    qualifier=st.sampled_from(["", "任何形式的", "公民、法人或其他组织提出的", "群众"]),
    obj=st.sampled_from(["政府信息公开申请", "依申请公开件", "申请公开政府信息的情况", "《信息公开申请表》"]),
)
def test_no_requests_in_words_is_a_stated_zero(era_frame, subject, negation, verb, qualifier, obj):
    year, frame, era = era_frame
    title = f"松岭乡{year if year.isdigit() else 2015}年政府信息公开工作年度报告\n"
    report = parse_text(title + frame + f"{subject}{negation}{verb}{qualifier}{obj}。\n")
    assert report.era == era
    received = figures(report)[("requests", "received_new", "total")]
    assert received.value == 0 and received.source.startswith("text!")


@settings(max_examples=50, deadline=None)
@given(
    era=st.sampled_from(["prose", "table_2021"]),
    negation=st.sampled_from(["未发生", "没有发生", "无", "未出现"]),
    cause=st.sampled_from(["", "因政府信息公开工作引起的", "因政府信息公开申请提起的", "针对本单位的"]),
    both=st.sampled_from(["行政复议和行政诉讼", "行政复议、行政诉讼", "行政复议或行政诉讼", "行政复议、诉讼"]),
    end=st.sampled_from(["", "案件", "情况", "的情形"]),
)
def test_no_reviews_in_words_states_every_proceeding_zero(era, negation, cause, both, end):
    head = ("清河镇2014年政府信息公开工作年度报告\n一、概述\n概况。\n五、因政府信息公开申请行政复议、提起行政诉讼的情况\n"
            if era == "prose" else
            "清河镇2022年政府信息公开工作年度报告\n一、总体情况\n(一)主动公开情况\n主动公开信息30条。\n(三)行政复议、行政诉讼情况\n")
    report = parse_text(head + f"全年{negation}{cause}{both}{end}。\n")
    assert report.era == era
    kinds = ("litigation",) if era == "prose" else ("litigation_direct", "litigation_after_reconsideration")
    for proceeding in ("reconsideration",) + kinds:
        assert value(report, "reviews", proceeding, "total") == 0, proceeding


@settings(max_examples=40, deadline=None)
@given(number=st.integers(min_value=1, max_value=5000),
       unit=st.sampled_from(["件", "起", "宗", "件(次)", "件（次）", "人次"]),
       verb=st.sampled_from(["共收到", "收到", "新收", "接到"]))
def test_requests_counted_in_any_unit(number, unit, verb):
    text = (f"清河镇2016年政府信息公开工作年度报告\n一、概述\n概况。\n三、依申请公开政府信息情况\n"
            f"本年度{verb}政府信息公开申请{number}{unit}，均已办结。\n")
    assert value(parse_text(text), "requests", "received_new", "total") == number


TABLE_ERA = "柏树街道2022年政府信息公开工作年度报告\n一、总体情况\n(一)主动公开情况\n{proactive}\n(二)依申请公开情况\n{requests}\n"


@pytest.mark.parametrize("proactive, requests, key, expected", [
    ("主动公开信息30条。", "本年度我街道共受理政府信息公开申请2件。", ("requests", "received_new", "total"), 2),
    ("主动公开信息30条。", "全年接收政府信息公开申请0件。", ("requests", "received_new", "total"), 0),
    ("主动公开信息30条。", "收到申请政府信息公开事项3件。", ("requests", "received_new", "total"), 3),
    ("主动公开信息30条。", "2022年新受理依申请政府信息公开8件。", ("requests", "received_new", "total"), 8),
    ("2022年1月至今，通过门户网站主动公开信息506条。", "未收到申请。", ("proactive", "all_items", "count"), 506),
    ("截至目前网站共发布592条信息，2022年公开政府信息60条。", "未收到申请。", ("proactive", "all_items", "count"), 60),
    ("全年共主动公开政府信息(综合政务类)287条。", "未收到申请。", ("proactive", "all_items", "count"), 287),
])
def test_wording_seen_on_reports_of_other_provinces(proactive, requests, key, expected):
    report = parse_text(TABLE_ERA.format(proactive=proactive, requests=requests))
    assert report.era == "table_2021"
    assert figures(report)[key].value == expected


def test_a_part_about_requests_that_also_names_consultations_is_about_requests():
    text = ("桂花乡2015年政府信息公开工作年度报告\n一、概述\n概况。\n二、主动公开政府信息情况\n主动公开政府信息40条。\n"
            "三、依申请公开、不予公开及咨询政府信息情况\n目前我乡尚未收到政府信息公开申请。\n")
    assert value(parse_text(text), "requests", "received_new", "total") == 0


def test_outline_heading_with_more_words_and_the_year_pick_a_table_era():
    text = ("桂花乡2020年政府信息公开工作年度报告\n一、政府信息公开总体情况\n2020年主动公开政府信息40条。\n"
            "二、其他\n无。\n")
    assert parse_text(text).era == "table_2019"
