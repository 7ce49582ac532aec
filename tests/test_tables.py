from pathlib import Path

from warehouse.parse.documents import load_document
from warehouse.parse.tables import classify_request_row, label_core, parse_table_facts

FIXTURES = Path(__file__).parent / "fixtures" / "tables"


def facts_of(name: str, era: str) -> dict:
    doc = load_document((FIXTURES / name).read_bytes(), filename=name)
    return {f.key: f for f in parse_table_facts(doc.tables, era)}


def test_2019_page_first_table_is_metadata():
    facts = facts_of("report_2019.html", "table_2019")
    assert facts[("proactive", "rules", "newly_made")].source == "table2!r3c2"


def test_2019_proactive_blocks_units_signs_and_guidance_text():
    facts = facts_of("report_2019.html", "table_2019")
    value = lambda *k: facts[("proactive", *k)].value  # noqa: E731
    assert value("rules", "newly_made") == 2 and value("rules", "published_total") == 31
    assert value("normative_documents", "newly_published") == 15
    assert value("administrative_licensing", "items_change") == -3
    assert value("administrative_licensing", "decisions") == 1208
    assert value("other_external_services", "items_change") == 2
    assert value("administrative_coercion", "decisions") == 0  # '—'
    assert value("administrative_fees", "items_change") == 0  # '/'
    procurement = facts[("proactive", "centralized_procurement", "amount")]
    assert (procurement.value, procurement.unit) == (38500, "元")
    assert value("centralized_procurement", "count") == 4


def test_2019_requests_rowspan_group_and_blank_total():
    facts = facts_of("report_2019.html", "table_2019")
    value = lambda row, col="total": facts[("requests", row, col)].value  # noqa: E731
    assert value("received_new") == 46 and value("received_new", "legal_service_org") == 1
    assert value("received_new", "research_institution") == 0  # &nbsp;
    assert value("granted", "natural_person") == 12
    assert value("granted") == 0  # blank 总计 cell in a row with values: the report's zero
    assert value("withheld_state_secret") == 1  # Word-pasted label
    assert value("withheld_process_information", "commercial_enterprise") == 1
    assert value("other_handling") == 0
    assert value("handled_total") == 44 and value("carried_forward") == 4
    secret = facts[("requests", "withheld_state_secret", "total")]
    assert secret.label_zh == "三、本年度办理结果 （三）不予公开 1.属于国家秘密"
    assert secret.source == "table3!r8c10"


def test_2019_reviews_with_blanks():
    facts = facts_of("report_2019.html", "table_2019")
    assert facts[("reviews", "reconsideration", "total")].value == 3
    assert facts[("reviews", "reconsideration", "corrected")].value == 0
    assert facts[("reviews", "litigation_direct", "total")].value == 1
    assert facts[("reviews", "litigation_after_reconsideration", "total")].value == 0


def test_2021_gbk_page_all_tables():
    facts = facts_of("report_2021_gbk.html", "table_2021")
    value = lambda *k: facts[k].value  # noqa: E731
    assert value("proactive", "normative_documents", "issued") == 22  # '22（其中修订3件）'
    assert value("proactive", "administrative_licensing", "decisions") == 152  # full-width digits
    assert value("proactive", "administrative_coercion", "decisions") == 0  # '无'
    fee = facts[("proactive", "administrative_fees", "amount")]
    assert (fee.value, fee.unit) == (318.64, "万元")
    assert value("requests", "withheld_prohibited_by_law", "total") == 1  # typo 行政止公开
    assert value("requests", "other_no_correction", "total") == 1
    assert value("requests", "other_other", "total") == 1
    assert value("requests", "handled_total", "total") == 29
    assert value("requests", "carried_forward", "commercial_enterprise") == 1
    assert value("reviews", "reconsideration", "total") == 6
    assert value("reviews", "litigation_direct", "other") == 1
    assert value("reviews", "litigation_after_reconsideration", "upheld") == 1


def test_extra_applicant_column_keeps_first_of_a_repeated_header():
    rows = [
        ["（本列数据的勾稽关系）"] * 2 + ["申请人情况"] * 8,
        ["（本列数据的勾稽关系）"] * 2 + ["自然人", "自然人"] + ["法人或其他组织"] * 5 + ["总计"],
        ["（本列数据的勾稽关系）"] * 2 + ["", "商业企业", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"],
        ["一、本年新收政府信息公开申请数量"] * 2 + ["50", "0", "0", "0", "1", "0", "3", "54"],
        ["二、上年结转政府信息公开申请数量"] * 2 + ["0"] * 8,
        ["三、本年度办理结果", "（一）予以公开", "20", "0", "0", "0", "1", "0", "0", "21"],
    ]

    class T:
        index, rows_ = 2, None
    table = T()
    table.rows = rows
    facts = {f.key: f.value for f in parse_table_facts([table], "table_2021")}
    assert facts[("requests", "received_new", "natural_person")] == 50
    assert facts[("requests", "received_new", "total")] == 54
    assert facts[("requests", "granted", "public_welfare_org")] == 1


def test_label_rules():
    assert label_core("（二）部分公开（区分处理的，只计这一情形，不计其他") == "部分公开"
    assert classify_request_row(["（六）其他处理", "3.其他"], "table_2021") == "other_other"
    assert classify_request_row(["(三)不予公开", "2.其他法律行政止公开"], "table_2021") == "withheld_prohibited_by_law"
    assert classify_request_row(["三、本年度办理结果", "（七）总计"], "table_2019") == "handled_total"
    assert classify_request_row(["四、结转下年度继续办理"], "table_2019") == "carried_forward"
