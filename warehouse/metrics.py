"""The one declaration of every key of spec/DATA_MODEL.md.

Parser, Parquet schemas, `dim_metric` and the data dictionary all read these
tables, so a key exists in exactly one place with its Chinese label, English
label, definition and the eras it appears in.
"""
from __future__ import annotations

from dataclasses import dataclass

from warehouse.eras import era_names, table_era_names
from warehouse.oversight import dictionary_markdown_sections  # the oversight models' columns

ERAS = era_names()            # declared in warehouse.eras, one module per era
TABLE_ERAS = table_era_names()


@dataclass(frozen=True)
class Key:
    key: str
    label_zh: str
    label_en: str
    definition: str
    eras: tuple[str, ...] = ERAS


# Table 三: rows of requests and their handling, in printed order.
REQUEST_ROWS: tuple[Key, ...] = (
    Key("received_new", "本年新收政府信息公开申请数量", "Requests received this year", "New disclosure requests received in the report year."),
    Key("carried_over", "上年结转政府信息公开申请数量", "Requests carried over", "Requests pending from the previous year."),
    Key("granted", "予以公开", "Granted in full", "Requests answered by disclosing the information in full."),
    Key("partially_granted", "部分公开", "Granted in part", "Requests answered by disclosing part of the information (counted only here)."),
    Key("withheld_state_secret", "不予公开·属于国家秘密", "Withheld: state secret", "Refused because the information is a state secret.", TABLE_ERAS),
    Key("withheld_prohibited_by_law", "不予公开·其他法律行政法规禁止公开", "Withheld: prohibited by other laws", "Refused because other laws or regulations forbid disclosure.", TABLE_ERAS),
    Key("withheld_security_stability", "不予公开·危及“三安全一稳定”", "Withheld: security and stability", "Refused as endangering national, public, economic security or social stability.", TABLE_ERAS),
    Key("withheld_third_party", "不予公开·保护第三方合法权益", "Withheld: third-party rights", "Refused to protect third parties' lawful rights.", TABLE_ERAS),
    Key("withheld_internal_affairs", "不予公开·属于三类内部事务信息", "Withheld: internal affairs", "Refused as internal administrative affairs.", TABLE_ERAS),
    Key("withheld_process_information", "不予公开·属于四类过程性信息", "Withheld: process information", "Refused as deliberative or process information.", TABLE_ERAS),
    Key("withheld_enforcement_files", "不予公开·属于行政执法案卷", "Withheld: enforcement files", "Refused as administrative enforcement case files.", TABLE_ERAS),
    Key("withheld_query_matter", "不予公开·属于行政查询事项", "Withheld: query matter", "Refused as a matter for an administrative query service.", TABLE_ERAS),
    Key("withheld", "不予公开", "Withheld (undivided)", "Requests refused, where the report gives no split by reason (era P).", ("prose",)),
    Key("unavailable_not_held", "无法提供·本机关不掌握相关政府信息", "Unavailable: not held", "The body does not hold the information.", TABLE_ERAS),
    Key("unavailable_needs_creation", "无法提供·没有现成信息需要另行制作", "Unavailable: would need creating", "No ready information; it would have to be created.", TABLE_ERAS),
    Key("unavailable_unclear", "无法提供·补正后申请内容仍不明确", "Unavailable: still unclear", "The request stayed unclear after correction.", TABLE_ERAS),
    Key("unavailable_not_held_other_body", "不属于本行政机关公开", "Not this body's information", "Era P: the information belongs to another body.", ("prose",)),
    Key("unavailable_nonexistent", "申请信息不存在", "Information does not exist", "Era P: the requested information does not exist.", ("prose",)),
    Key("not_handled_petition", "不予处理·信访举报投诉类申请", "Not handled: petition or complaint", "Requests that are petitions, reports or complaints.", TABLE_ERAS),
    Key("not_handled_repeated", "不予处理·重复申请", "Not handled: repeated", "Repeated requests.", TABLE_ERAS),
    Key("not_handled_publication", "不予处理·要求提供公开出版物", "Not handled: publication", "Requests for published material.", TABLE_ERAS),
    Key("not_handled_excessive", "不予处理·无正当理由大量反复申请", "Not handled: excessive", "Mass repeated requests without good reason.", TABLE_ERAS),
    Key("not_handled_confirmation", "不予处理·要求行政机关确认或重新出具已获取信息", "Not handled: confirmation", "Requests to confirm or re-issue information already obtained.", TABLE_ERAS),
    Key("other_handling", "其他处理", "Other handling", "Other handling (2019 tables: one row; 2021 tables: sum of three rows, stated or derived in the mart).", TABLE_ERAS),
    Key("other_no_correction", "其他处理·申请人逾期不补正", "Other: no correction", "Applicant did not correct the request in time.", ("table_2021",)),
    Key("other_fee_unpaid", "其他处理·申请人逾期未缴纳费用", "Other: fee unpaid", "Applicant did not pay the fee in time.", ("table_2021",)),
    Key("other_other", "其他处理·其他", "Other: other", "Other handling, other reasons.", ("table_2021",)),
    Key("handled_total", "总计", "Handled, total", "All requests handled in the year."),
    Key("carried_forward", "结转下年度继续办理", "Carried forward", "Requests still pending at year end."),
)

APPLICANTS: tuple[Key, ...] = (
    Key("natural_person", "自然人", "Natural person", "Requests by individuals.", TABLE_ERAS),
    Key("commercial_enterprise", "商业企业", "Commercial enterprise", "Requests by businesses.", TABLE_ERAS),
    Key("research_institution", "科研机构", "Research institution", "Requests by research institutions.", TABLE_ERAS),
    Key("public_welfare_org", "社会公益组织", "Public-welfare organisation", "Requests by public-welfare organisations.", TABLE_ERAS),
    Key("legal_service_org", "法律服务机构", "Legal service organisation", "Requests by law firms and legal services.", TABLE_ERAS),
    Key("other_org", "其他", "Other organisation", "Requests by other legal persons or organisations.", TABLE_ERAS),
    Key("total", "总计", "Total", "All applicants."),
)

PROCEEDINGS: tuple[Key, ...] = (
    Key("reconsideration", "行政复议", "Administrative reconsideration", "Reconsiderations over disclosure decisions."),
    Key("litigation_direct", "行政诉讼·未经复议直接起诉", "Lawsuit, direct", "Lawsuits filed without prior reconsideration.", TABLE_ERAS),
    Key("litigation_after_reconsideration", "行政诉讼·复议后起诉", "Lawsuit after reconsideration", "Lawsuits filed after a reconsideration.", TABLE_ERAS),
    Key("litigation", "行政诉讼", "Lawsuit (undivided)", "Lawsuits where the report does not split them (era P).", ("prose",)),
)

RESULTS: tuple[Key, ...] = (
    Key("upheld", "结果维持", "Upheld", "Decision upheld."),
    Key("corrected", "结果纠正", "Corrected", "Decision corrected."),
    Key("other", "其他结果", "Other result", "Other outcome."),
    Key("pending", "尚未审结", "Pending", "Not concluded at year end.", TABLE_ERAS),
    Key("total", "总计", "Total", "All cases."),
)

ITEM_TYPES: tuple[Key, ...] = (
    Key("rules", "规章", "Rules (regulations)", "Government rules (规章)."),
    Key("normative_documents", "规范性文件", "Normative documents", "(Administrative) normative documents."),
    Key("administrative_licensing", "行政许可", "Administrative licensing", "Licensing items and decisions.", TABLE_ERAS),
    Key("other_external_services", "其他对外管理服务事项", "Other external services", "Other external management service items.", ("table_2019",)),
    Key("administrative_penalty", "行政处罚", "Administrative penalty", "Penalty decisions.", TABLE_ERAS),
    Key("administrative_coercion", "行政强制", "Administrative coercion", "Coercive measures.", TABLE_ERAS),
    Key("administrative_fees", "行政事业性收费", "Administrative fees", "Administrative and institutional fees.", TABLE_ERAS),
    Key("centralized_procurement", "政府集中采购", "Centralised procurement", "Government centralised procurement.", ("table_2019",)),
    Key("all_items", "主动公开政府信息", "All proactive items", "All items published proactively in the year (table eras: stated in words in 一、总体情况)."),
    # Channels and formats of proactive disclosure, stated in words in every era.
    Key("website_posts", "政府网站发布信息", "Website posts", "Items published on the body's (or its government's) website in the year."),
    Key("new_media_posts", "政务新媒体发布信息", "New-media posts", "Items published on government new media (微博, 微信公众号, apps) in the year."),
    Key("press_conferences", "新闻发布会", "Press conferences", "Press conferences held in the year."),
    Key("policy_interpretations", "政策解读", "Policy interpretations", "Policy interpretations (解读稿件, 图解, 视频) published in the year."),
)

MEASURES: tuple[Key, ...] = (
    Key("issued", "本年制发件数", "Issued this year", "Documents issued in the year.", ("table_2021",)),
    Key("repealed", "本年废止件数", "Repealed this year", "Documents repealed in the year.", ("table_2021",)),
    Key("in_force", "现行有效件数", "In force", "Documents in force at year end.", ("table_2021",)),
    Key("newly_made", "本年新制作数量", "Newly made", "Documents newly made in the year.", ("table_2019",)),
    Key("newly_published", "本年新公开数量", "Newly published", "Documents newly published in the year.", ("table_2019",)),
    Key("published_total", "对外公开总数量", "Published, cumulative", "All documents published to date (cumulative).", ("table_2019", "prose")),
    Key("items_prev_year", "上一年项目数量", "Items previous year", "Number of items at the end of the previous year.", ("table_2019",)),
    Key("items_change", "本年增/减", "Change this year", "Items added or removed in the year (signed).", ("table_2019",)),
    Key("decisions", "处理决定数量", "Decisions", "Decisions made in the year.", TABLE_ERAS),
    Key("amount", "金额", "Amount", "Money amount, unit as printed (万元 or 元).", TABLE_ERAS),
    Key("count", "数量", "Count", "Items in the year (procurement projects; proactive items and channel figures stated in words)."),
)

TABLES = ("proactive", "requests", "reviews")

REQUEST_ROW_KEYS = tuple(k.key for k in REQUEST_ROWS)
APPLICANT_KEYS = tuple(k.key for k in APPLICANTS)
PROCEEDING_KEYS = tuple(k.key for k in PROCEEDINGS)
RESULT_KEYS = tuple(k.key for k in RESULTS)
ITEM_TYPE_KEYS = tuple(k.key for k in ITEM_TYPES)
MEASURE_KEYS = tuple(k.key for k in MEASURES)

# dimension name -> its keys; used to validate facts.
DIMENSIONS: dict[str, tuple[Key, ...]] = {
    "row": REQUEST_ROWS,
    "applicant": APPLICANTS,
    "proceeding": PROCEEDINGS,
    "result": RESULTS,
    "item_type": ITEM_TYPES,
    "measure": MEASURES,
}

WITHHELD_ROWS = tuple(k for k in REQUEST_ROW_KEYS if k.startswith("withheld_"))
UNAVAILABLE_ROWS = ("unavailable_not_held", "unavailable_needs_creation", "unavailable_unclear")
NOT_HANDLED_ROWS = tuple(k for k in REQUEST_ROW_KEYS if k.startswith("not_handled_"))
APPLICANT_ADDENDS = APPLICANT_KEYS[:-1]


def dictionary_rows() -> list[dict]:
    """Every key as a row of `dim_metric` / `disclosure dictionary`."""
    rows = []
    for dimension, keys in {**DIMENSIONS, "mart_column": MART_COLUMNS}.items():
        for k in keys:
            rows.append({
                "dimension": dimension, "key": k.key, "label_zh": k.label_zh,
                "label_en": k.label_en, "definition": k.definition, "eras": ",".join(k.eras),
            })
    return rows


# Columns of mart_agency_year: the measures comparable across eras (fed by warehouse.eras.crosswalk_rows()).
MART_COLUMNS: tuple[Key, ...] = (
    Key("agency_id", "机构编号", "Agency id", "Stable id of the publishing body across years and renames."),
    Key("agency_name", "机构名称", "Agency", "Current name of the body."),
    Key("level", "层级", "Level", "national, provincial, prefecture, county, township, zone or department."),
    Key("region_code", "行政区划代码", "Region code", "GB/T 2260 code where known."),
    Key("report_year", "报告年度", "Report year", "The year reported on."),
    Key("era", "格式", "Layout era", "prose, table_2019 or table_2021."),
    Key("report_id", "报告编号", "Report id", "Hash of the report's normalised text."),
    Key("agency_name_as_printed", "报告所署机构名称", "Agency as printed", "The name printed in this report."),
    Key("requests_received", "本年新收申请数", "Requests received", "New requests received in the year."),
    Key("requests_carried_over", "上年结转申请数", "Carried over", "Requests carried over from the previous year."),
    Key("granted_full", "予以公开", "Granted in full", "Granted in full."),
    Key("granted_part", "部分公开", "Granted in part", "Granted in part."),
    Key("withheld", "不予公开", "Withheld", "Refused, all reasons."),
    Key("unavailable", "无法提供", "Unavailable", "Information not held, would need creating, or unclear."),
    Key("not_handled", "不予处理", "Not handled", "Petitions, repeated, publications, excessive, confirmations."),
    Key("other_handling", "其他处理", "Other handling", "Other handling (2021: the three rows added up)."),
    Key("handled_total", "办理总计", "Handled, total", "All requests handled."),
    Key("requests_carried_forward", "结转下年度继续办理", "Carried forward", "Requests pending at year end."),
    Key("reconsiderations_total", "行政复议总计", "Reconsiderations", "Administrative reconsiderations, total."),
    Key("reconsiderations_upheld", "行政复议·结果维持", "Reconsiderations upheld", "Upheld."),
    Key("reconsiderations_corrected", "行政复议·结果纠正", "Reconsiderations corrected", "Corrected."),
    Key("reconsiderations_other", "行政复议·其他结果", "Reconsiderations other", "Other outcome."),
    Key("reconsiderations_pending", "行政复议·尚未审结", "Reconsiderations pending", "Pending."),
    Key("lawsuits_total", "行政诉讼总计", "Lawsuits", "Lawsuits, direct and after reconsideration."),
    Key("lawsuits_upheld", "行政诉讼·结果维持", "Lawsuits upheld", "Upheld."),
    Key("lawsuits_corrected", "行政诉讼·结果纠正", "Lawsuits corrected", "Corrected."),
    Key("lawsuits_other", "行政诉讼·其他结果", "Lawsuits other", "Other outcome."),
    Key("lawsuits_pending", "行政诉讼·尚未审结", "Lawsuits pending", "Pending."),
    Key("proactive_items", "主动公开政府信息数", "Proactive items", "Items published proactively in the year (table eras: the figure 一、总体情况 states in words)."),
    Key("rules_issued", "规章制发数", "Rules issued", "Rules issued (2019: newly made)."),
    Key("normative_documents_issued", "规范性文件制发数", "Normative documents issued", "Normative documents issued (2019: newly made)."),
    Key("normative_documents_in_force", "规范性文件现行有效数", "Normative documents in force", "In force (2019: published total)."),
    Key("grant_rate", "公开率", "Grant rate", "(granted in full + in part) / handled total."),
    Key("failed_any_check", "是否未通过校验", "Failed a check", "The report breaks at least one of its own identities."),
    Key("failed_checks", "未通过的校验", "Failed checks", "Names of the identities the report breaks."),
)


def dictionary_markdown() -> str:
    """The data dictionary as Markdown (docs/data_dictionary.md is this, committed)."""
    lines = ["# Data dictionary", "",
             "Generated from `warehouse/metrics.py` by `disclosure dictionary --markdown`; "
             "the same rows are the table `dim_metric` in the warehouse.", ""]
    titles = {"row": "Table 三 rows (`fct_requests.row`)", "applicant": "Applicants (`fct_requests.applicant`)",
              "proceeding": "Proceedings (`fct_reviews.proceeding`)", "result": "Results (`fct_reviews.result`)",
              "item_type": "Item types (`fct_proactive_disclosure.item_type`)",
              "measure": "Measures (`fct_proactive_disclosure.measure`)",
              "mart_column": "Columns of `mart_agency_year`"}
    rows = dictionary_rows()
    for dimension, title in titles.items():
        lines += [f"## {title}", "", "| key | 中文 | English | eras | definition |", "|---|---|---|---|---|"]
        lines += [f"| `{r['key']}` | {r['label_zh']} | {r['label_en']} | {r['eras'].replace(',', ', ')} | {r['definition']} |"
                  for r in rows if r["dimension"] == dimension]
        lines.append("")
    lines += dictionary_markdown_sections()
    return "\n".join(lines)
