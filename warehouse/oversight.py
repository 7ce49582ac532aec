"""The columns of the oversight models (issue 15): who reported and on time, what changed between
versions, whether the parts add up, and the scorecard. Declared once here with their Chinese and
English labels and definitions, for the data dictionary; each model's contract (sql/marts/*.yml)
lists the same columns in the same order (tests/test_timeliness.py checks it).

Plain data, importing nothing of the project, so warehouse.metrics can read it without a cycle.
"""
from __future__ import annotations

from typing import NamedTuple


class Column(NamedTuple):
    key: str
    label_zh: str
    label_en: str
    definition: str


_AGENCY = (
    Column("agency_id", "机构编号", "Agency id", "Stable id of the publishing body across years and renames."),
    Column("agency_name", "机构名称", "Agency", "Current name of the body."),
    Column("level", "层级", "Level", "national, provincial, prefecture, county, township, zone or department."),
    Column("region_code", "行政区划代码", "Region code", "GB/T 2260 code where known."),
    Column("province", "省份", "Province", "Province of the body."),
)

MODEL_COLUMNS: dict[str, tuple[Column, ...]] = {
    "mart_report_timeliness": (
        *_AGENCY,
        Column("report_year", "报告年度", "Report year", "A year the body was expected to report on: its span of "
               "reports; a registry body up to the warehouse's latest year; within the registry's established / "
               "abolished years."),
        Column("regulation", "适用条例", "Regulation", "'2008' (report years up to 2018) or '2019' (from 2019)."),
        Column("deadline", "发布期限", "Deadline", "2008 regulation: 31 March of the next year; 2019 regulation: "
               "31 January for departments, 31 March for governments (warehouse/deadlines.py)."),
        Column("report_id", "报告编号", "Report id", "The current report of the year; NULL when missing."),
        Column("url", "报告网址", "URL", "Where the current report was first fetched."),
        Column("published_date", "发布日期", "Published", "The date the report states (page field, 成文日期 or "
               "signature, or its URL), else the day the crawl first saw it when that was by the deadline."),
        Column("date_source", "日期来源", "Date source", "page_field, signed_date, url_path or first_crawl; NULL "
               "when the date is unknown or the report missing."),
        Column("first_seen_at", "首次抓取时间", "First seen", "Earliest fetch of the report at any of its URLs (UTC)."),
        Column("days_late", "逾期天数", "Days late", "published_date - deadline for a stated date (<= 0: on time); "
               "NULL otherwise."),
        Column("status", "及时性", "Status", "on_time, late, missing or date_unknown (no stated date, first seen "
               "after the deadline: never guessed)."),
    ),
    "fct_report_changes": (
        Column("agency_id", "机构编号", "Agency id", "Stable id of the publishing body."),
        Column("report_year", "报告年度", "Report year", "The year reported on."),
        Column("fact_table", "表", "Fact table", "proactive, requests or reviews."),
        Column("fact_key", "指标键", "Fact key", "fact_table/dimension/dimension, e.g. requests/received_new/total."),
        Column("old_value", "原值", "Old value", "The figure in the older version (NULL: not stated there)."),
        Column("new_value", "新值", "New value", "The figure in the newer version (NULL: not stated there)."),
        Column("old_report_id", "原版本编号", "Old report id", "The older of two consecutive versions."),
        Column("new_report_id", "新版本编号", "New report id", "The newer of two consecutive versions."),
        Column("old_first_seen_at", "原版本首次抓取", "Old first seen", "When the crawl first saw the older version."),
        Column("new_first_seen_at", "新版本首次抓取", "New first seen", "When the crawl first saw the newer version."),
        Column("url", "新版本网址", "URL", "Where the newer version was first fetched."),
        Column("change", "变化", "Change", "changed, added (only the newer states it) or removed."),
        Column("new_is_correction", "是否更正版", "Correction", "The newer version is marked 更正/修订."),
    ),
    "mart_reconciliation": (
        Column("parent_agency_id", "上级机构编号", "Parent id", "dim_agency.parent_agency_id of the children."),
        Column("parent_name", "上级机构名称", "Parent", "Current name of the parent body."),
        Column("report_year", "报告年度", "Report year", "A year a child was expected to report or reported."),
        Column("measure", "指标", "Measure", "A comparable measure of mart_agency_year."),
        Column("parent_value", "本级数值", "Parent value", "The parent's figure (NULL: not stated, or no report)."),
        Column("children_sum", "下级合计", "Children's sum", "Sum of the children's figures that are stated."),
        Column("children_reporting", "下级填报数", "Children stating it", "Children whose current report states "
               "the measure."),
        Column("children_expected", "应报下级数", "Children expected", "Children expected to report that year "
               "(mart_report_timeliness)."),
        Column("difference", "差额", "Difference", "parent_value - children_sum."),
        Column("status", "核对结果", "Status", "match, mismatch, incomplete (fewer children state it than were "
               "expected) or no_parent_value."),
    ),
    "mart_scorecard": (
        *_AGENCY,
        Column("city", "市", "City", "City of the body."),
        Column("county", "区县", "County", "County of the body."),
        Column("report_year", "报告年度", "Report year", "A year the body was expected to report on."),
        Column("report_id", "报告编号", "Report id", "The current report; NULL when missing."),
        Column("timeliness_status", "及时性", "Timeliness", "mart_report_timeliness.status."),
        Column("published_on_time", "按时发布", "Published on time", "true when on_time, false when late or "
               "missing, NULL when the date is unknown."),
        Column("sections_present", "已填报部分数", "Sections present", "Tables of the era (二 proactive, 三 "
               "requests, 四 reviews) the report states a figure of."),
        Column("sections_expected", "应有部分数", "Sections expected", "Tables the era's layout has (era registry)."),
        Column("identities_passed", "勾稽校验通过", "Identities passed", "Every accounting identity of the report "
               "holds; NULL when none could be evaluated."),
        Column("checks_passed", "通过校验数", "Checks passed", "Checks of fct_check_results that passed."),
        Column("checks_run", "校验数", "Checks run", "Checks of fct_check_results evaluated."),
        Column("statements_agree", "前后表述一致", "Statements agree", "A figure stated twice has one value; "
               "NULL when none is stated twice."),
        Column("figures_stated_share", "填报率", "Figures stated", "Share of the era's comparable figures the "
               "report states (not blank)."),
        Column("score", "得分", "Score", "0-100: 30 timeliness (on time 30, date unknown 15, late 10) + 20 x "
               "sections share + 20 identities (passed 20, none 10) + 10 statements (agree 10, none 5) + 20 x "
               "figures share; a missing report scores 0."),
    ),
}


def dictionary_markdown_sections() -> list[str]:
    """The data dictionary's sections for these models (lines of Markdown)."""
    lines: list[str] = []
    for model, columns in MODEL_COLUMNS.items():
        lines += [f"## Columns of `{model}`", "", "| column | 中文 | English | definition |", "|---|---|---|---|"]
        lines += [f"| `{c.key}` | {c.label_zh} | {c.label_en} | {c.definition} |" for c in columns]
        lines.append("")
    return lines
