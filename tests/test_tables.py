from pathlib import Path

from warehouse.parse.formats import load_document
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
    # a blank 总计 beside non-zero applicant cells is not stated (NULL), never a zero
    assert ("requests", "granted", "total") not in facts
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


REVIEW_KEYS = [(p, r) for p in ("reconsideration", "litigation_direct", "litigation_after_reconsideration")
               for r in ("upheld", "corrected", "other", "pending", "total")]


def reviews_of(name: str) -> dict:
    facts = facts_of(name, "table_2021")
    return {k[1:]: f.value for k, f in facts.items() if k[0] == "reviews"}


def test_reviews_proceeding_named_in_brackets_two_header_rows():
    # '行政诉讼（复议后起诉）': the bracket is the proceeding's name, not a note
    got = reviews_of("reviews_bracketed_names.html")
    assert [got[k] for k in REVIEW_KEYS] == [4, 1, 0, 2, 7, 0, 0, 1, 0, 1, 2, 0, 0, 1, 3]


def test_reviews_data_row_of_blank_cells_states_zeros():
    got = reviews_of("reviews_blank_row.html")
    assert got == {k: 0 for k in REVIEW_KEYS}


def test_reviews_row_per_proceeding_with_split_labels():
    facts = facts_of("reviews_row_labels.html", "table_2021")
    got = {k[1:]: f.value for k, f in facts.items() if k[0] == "reviews"}
    assert [got[k] for k in REVIEW_KEYS] == [6, 2, 0, 1, 9, 3, 0, 1, 2, 6, 0, 0, 0, 0, 0]
    assert facts[("reviews", "litigation_direct", "total")].source == "table1!r3c7"


def test_requests_table_cut_by_a_page_break():
    """First part: header + rows 一 and 二 only; continuation: no header, labels over three columns."""
    facts = facts_of("requests_page_break.html", "table_2021")
    value = lambda row, col="total": facts[("requests", row, col)].value  # noqa: E731
    assert value("received_new") == 38 and value("received_new", "other_org") == 2
    assert value("received_new", "research_institution") == 0
    assert value("carried_over") == 3 and value("carried_over", "natural_person") == 3
    assert value("granted") == 17 and value("granted", "other_org") == 1
    assert value("partially_granted", "public_welfare_org") == 1
    assert value("withheld_state_secret", "natural_person") == 2
    assert value("handled_total") == 36 and value("carried_forward", "commercial_enterprise") == 1
    assert facts[("requests", "granted", "total")].source == "table2!r1c10"
    assert len({k for k in facts if k[0] == "requests"}) == 7 * 7


def test_reviews_single_data_row_with_a_note_row_below():
    class T:
        index = 5
        rows = [["行政复议"] * 5 + ["行政诉讼（未经复议直接起诉）"] * 5 + ["行政诉讼（复议后起诉）"] * 5,
                ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 3,
                ["2", "", "1", "", "3"] + ["—"] * 10,
                ["注：行政复议、行政诉讼均以本年度收到的案件计"] * 15]
    got = {f.key[1:]: f.value for f in parse_table_facts([T()], "table_2019")}
    assert got[("reconsideration", "total")] == 3 and got[("reconsideration", "other")] == 1
    assert got[("litigation_after_reconsideration", "total")] == 0 and len(got) == 15
