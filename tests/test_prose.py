"""Era-P prose and statistics-table parsing on fixtures written for the project."""
from pathlib import Path

import pytest

from warehouse.parse.prose import parse_prose_facts, split_sections
from warehouse.parse.stats_table import decode_joined

FIXTURES = Path(__file__).parent / "fixtures" / "prose"


def first_by_key(facts) -> dict:
    """The fact the dispatcher keeps for each key: the first one."""
    out = {}
    for fact in facts:
        out.setdefault(fact.key, fact)
    return out


def facts_of(name: str, tables=None) -> tuple[dict, str]:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return first_by_key(parse_prose_facts(text, "prose", tables=tables)), text


def value(facts: dict, table: str, a: str, b: str):
    fact = facts.get((table, a, b))
    return fact.value if fact else None


def test_sentences_of_a_2011_report():
    facts, text = facts_of("river_county_water_bureau_2011.txt")
    assert value(facts, "proactive", "all_items", "count") == 312          # 三百一十二条
    assert value(facts, "proactive", "all_items", "published_total") == 1480  # 累计
    assert value(facts, "proactive", "normative_documents", "count") == 12  # 十二件
    received = facts[("requests", "received_new", "total")]
    assert received.value == 30 and received.approximate                    # 近30件
    assert value(facts, "requests", "granted", "total") == 18
    assert value(facts, "requests", "partially_granted", "total") == 5
    assert value(facts, "requests", "withheld", "total") == 2
    assert value(facts, "requests", "unavailable_not_held_other_body", "total") == 3
    assert value(facts, "requests", "unavailable_nonexistent", "total") == 2
    assert value(facts, "reviews", "reconsideration", "total") == 1
    assert value(facts, "reviews", "litigation", "total") == 0              # 未发生行政诉讼


def test_figures_outside_their_section_or_with_other_units_are_ignored():
    facts, _ = facts_of("river_county_water_bureau_2011.txt")
    values = {f.value for f in facts.values()}
    # 公开了…招标信息45条 (overview), 60人次, 2万余份, 咨询120次
    assert not values & {45, 60, 20000, 120}


def test_source_spans_point_at_the_sentence():
    facts, text = facts_of("river_county_water_bureau_2011.txt")
    fact = facts[("proactive", "all_items", "count")]
    start, end = map(int, fact.source.removeprefix("text!").split("-"))
    assert text[start:end] == "主动公开政府信息三百一十二条"
    assert fact.label_zh == "主动公开政府信息" and fact.unit == "条"


def test_spaced_statistics_table_wins_and_zero_in_words():
    facts, _ = facts_of("east_lake_township_2016.txt")
    assert value(facts, "proactive", "all_items", "count") == 88
    assert value(facts, "proactive", "normative_documents", "count") == 4
    assert value(facts, "requests", "received_new", "total") == 0
    assert value(facts, "reviews", "reconsideration", "total") == 0
    assert value(facts, "reviews", "litigation", "total") == 0
    assert facts[("proactive", "all_items", "count")].label_zh == "主动公开政府信息数"


def test_table_facts_come_before_prose_facts():
    text = (FIXTURES / "east_lake_township_2016.txt").read_text(encoding="utf-8")
    facts = parse_prose_facts(text, "prose")
    first = next(f for f in facts if f.key == ("proactive", "all_items", "count"))
    assert first.label_zh == "主动公开政府信息数"


def test_joined_two_column_table_is_decoded_with_the_prose():
    facts, _ = facts_of("harbour_district_2017_joined.txt")
    assert value(facts, "proactive", "all_items", "count") == 1734   # 条173410521
    assert value(facts, "requests", "received_new", "total") == 12    # 条1219
    assert value(facts, "requests", "granted", "total") == 9          # 条9152.
    assert value(facts, "requests", "partially_granted", "total") == 2
    assert value(facts, "requests", "withheld", "total") == 1
    assert value(facts, "reviews", "reconsideration", "total") == 0
    assert value(facts, "reviews", "litigation", "total") == 0


def test_parts_of_the_whole_are_not_the_total():
    facts, _ = facts_of("harbour_district_2017_joined.txt")
    assert facts[("proactive", "all_items", "count")].value == 1734
    assert 1200 not in {f.value for f in facts.values()}


@pytest.mark.parametrize("run,hint,expected", [
    ("00", None, 0), ("915", None, 9), ("23", None, 2),
    ("173410521", 1734, 1734), ("173410521", None, None), ("1219", 12, 12), ("1219", 5, None),
])
def test_decode_joined(run, hint, expected):
    assert decode_joined(run, hint) == expected


def test_grid_statistics_table():
    grid = [["统计指标", "单位", "统计数"],
            ["主动公开政府信息数", "条", "406"],
            ["其中：主动公开规范性文件数", "件", "７"],
            ["收到申请数", "件", "3"],
            ["同意公开答复数", "件", "2"],
            ["不同意公开答复数", "件", "1"],
            ["行政复议数量", "件", "1"],
            ["维持具体行政行为数", "件", "1"],
            ["行政诉讼数量", "件", "—"]]
    facts = first_by_key(parse_prose_facts("", "prose", tables=[grid]))
    assert value(facts, "proactive", "all_items", "count") == 406
    assert value(facts, "proactive", "normative_documents", "count") == 7
    assert value(facts, "requests", "received_new", "total") == 3
    assert value(facts, "requests", "granted", "total") == 2
    assert value(facts, "requests", "withheld", "total") == 1
    assert value(facts, "reviews", "reconsideration", "upheld") == 1
    assert value(facts, "reviews", "litigation", "total") == 0
    assert facts[("requests", "granted", "total")].source == "table1!r5c3"


def test_traditional_characters_and_pinyin_noise():
    text = ("一、概述\n本局依法公開政府信息。\n二、主動公開政(zhèng)府信息情況\n本年主動公開政府信息四十五條。\n"
            "三、依申請公開情況\n本年度未收到政府信息公開申請。\n四、行政複議和行政訴訟情況\n未產生行政複議與行政訴訟。")
    facts = first_by_key(parse_prose_facts(text, "prose"))
    assert value(facts, "proactive", "all_items", "count") == 45
    assert value(facts, "requests", "received_new", "total") == 0
    assert value(facts, "reviews", "litigation", "total") == 0


def test_unstated_figures_get_no_fact():
    text = "一、主动公开政府信息情况\n本年主动公开政府信息20条。\n二、存在的主要问题\n人员不足。"
    keys = {f.key for f in parse_prose_facts(text, "prose")}
    assert keys == {("proactive", "all_items", "count")}


def test_no_requests_means_no_outcomes():
    text = ("一、主动公开政府信息情况\n本年主动公开信息的有5条。\n二、依申请公开和不予公开情况\n"
            "本年度没有依申请公开信息的情况。不予公开信息有10条。")
    facts = first_by_key(parse_prose_facts(text, "prose"))
    assert value(facts, "requests", "received_new", "total") == 0
    assert ("requests", "withheld", "total") not in facts


def test_sections_follow_their_numbering():
    text = "前言。一、概述 一是加强领导。二、主动公开政府信息情况（一）数量 三、依申请公开情况 四、问题"
    assert [s.topic for s in split_sections(text)] == ["preamble", "general", "proactive", "requests", "problems"]


def test_table_eras_keep_only_safe_prose_figures():
    text = ("三、收到和处理政府信息公开申请情况\n本年度共收到政府信息公开申请34件，予以公开9件，不予公开3件。\n"
            "四、政府信息公开行政复议、行政诉讼情况\n发生行政复议2件，行政诉讼5件。")
    keys = {f.key: f.value for f in parse_prose_facts(text, "table_2021")}
    assert keys == {("requests", "received_new", "total"): 34, ("requests", "granted", "total"): 9,
                    ("reviews", "reconsideration", "total"): 2}


def test_sub_types_listed_after_the_whole_and_requests_handled():
    facts, _ = facts_of("maple_county_land_bureau_2015.txt")
    assert value(facts, "proactive", "all_items", "count") == 904
    assert value(facts, "proactive", "rules", "count") == 1                 # 县政府规章1部
    assert value(facts, "proactive", "normative_documents", "count") == 14  # 、本局规范性文件十四件
    assert value(facts, "requests", "received_new", "total") == 17
    handled = facts[("requests", "handled_total", "total")]
    assert handled.value == 16 and handled.label_zh == "办结"               # 已办结16件, not the hotline's 240
    assert value(facts, "requests", "granted", "total") == 11
    assert value(facts, "reviews", "reconsideration", "total") == 1
    assert value(facts, "reviews", "litigation", "total") == 0


def test_documents_cleaned_up_or_filed_are_not_disclosure_counts():
    facts, _ = facts_of("maple_county_land_bureau_2015.txt")
    values = {f.value for f in facts.values()}
    # 清理规章1件、规范性文件46件 (overview), 政策、规范性文件类信息38条, 备案审查7件, 6个工作日
    assert not values & {46, 38, 7, 6, 240}


@pytest.mark.parametrize("sentence,expected", [
    ("本年收到申请9件，已全部办结，办结9件。", 9),
    ("本年收到申请9件，共办结依申请公开事项8件。", 8),
    ("本年收到申请9件，办结率100%。", None),
    ("本年收到申请9件，均已办理完毕。", None),           # no figure stated
    ("本年收到申请9件，尚有2件未办结。", None),
    ("本年收到申请9件，信访件办结5件。", None),
])
def test_requests_handled_in_sentences(sentence, expected):
    text = "一、主动公开情况\n公开信息30条。\n二、依申请公开情况\n" + sentence
    facts = first_by_key(parse_prose_facts(text, "prose"))
    assert value(facts, "requests", "handled_total", "total") == expected


def test_requests_handled_in_prose_only_in_era_p():
    text = "三、收到和处理政府信息公开申请情况\n本年度共收到政府信息公开申请34件，已办结30件。"
    keys = {f.key for f in parse_prose_facts(text, "table_2021")}
    assert ("requests", "handled_total", "total") not in keys


@pytest.mark.parametrize("sentence,rules,normative", [
    ("主动公开信息120条，其中政府规章2件、规范性文件9件。", 2, 9),
    ("主动公开信息120条，其中：省政府规章3部，省政府办公厅规范性文件5份。", 3, 5),
    ("主动公开信息120条，政策、规范性文件21条。", None, None),
    ("主动公开信息120条。完善规章制度4项。", None, None),
    ("主动公开信息120条。废止规章2件、规范性文件6件。", None, None),
    ("主动公开信息120条，其中政策解读12条、规范性文件3件。", None, 3),
    ("主动公开信息120条。结合规范性文件清理工作，共清理规范性文件40件。", None, None),
])
def test_rules_and_normative_documents_in_sentences(sentence, rules, normative):
    text = "一、主动公开政府信息情况\n" + sentence + "\n二、依申请公开情况\n未收到申请。"
    facts = first_by_key(parse_prose_facts(text, "prose"))
    assert value(facts, "proactive", "rules", "count") == rules
    assert value(facts, "proactive", "normative_documents", "count") == normative


def test_table_eras_leave_rules_and_normative_documents_to_table_two():
    text = ("一、总体情况\n（一）主动公开\n全年主动公开政府规章6件、行政规范性文件31件。\n"
            "二、主动公开政府信息情况\n第二十条第（一）项 规章 6 0 40")
    keys = {f.key[1] for f in parse_prose_facts(text, "table_2021")}
    assert not keys & {"rules", "normative_documents"}
