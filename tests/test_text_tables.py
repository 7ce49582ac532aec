from pathlib import Path

from warehouse.parse.text_tables import decode, parse_flat_tables, request_text_facts

FIXTURES = Path(__file__).parent / "fixtures" / "tables"


def flat(name: str, era: str = "table_2021") -> tuple[str, dict]:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return text, {f.key: f for f in parse_flat_tables(text, era)}


def test_pdf_text_rows_with_broken_labels_and_page_markers():
    text, facts = flat("flat_pdf_2021.txt")
    value = lambda *k: facts[k].value  # noqa: E731
    assert value("proactive", "normative_documents", "issued") == 9
    assert value("proactive", "normative_documents", "in_force") == 57
    assert value("proactive", "administrative_fees", "amount") == 906.5
    assert facts[("proactive", "administrative_fees", "amount")].unit == "万元"
    assert value("requests", "received_new", "total") == 63
    assert value("requests", "partially_granted", "total") == 6  # label broken over two lines
    assert value("requests", "unavailable_not_held", "legal_service_org") == 1
    assert value("requests", "other_fee_unpaid", "total") == 0
    assert value("requests", "other_other", "total") == 1
    assert value("requests", "handled_total", "total") == 62
    assert value("requests", "carried_forward", "total") == 4
    assert value("reviews", "reconsideration", "total") == 4
    assert value("reviews", "litigation_direct", "pending") == 1
    assert value("reviews", "litigation_after_reconsideration", "total") == 1
    fact = facts[("requests", "received_new", "total")]
    start, end = map(int, fact.source.removeprefix("text!").split("-"))
    assert text[start:end].startswith("58") and text[start:end].endswith("63")


def test_glued_digits_decoded_with_row_identities():
    _, facts = flat("flat_glued_2021.txt")
    value = lambda *k: facts[k].value  # noqa: E731
    assert value("requests", "received_new", "total") == 42
    assert value("requests", "received_new", "natural_person") == 42
    assert value("requests", "granted", "total") == 22
    # '220000022' also reads 2|20|0|0|0|0|22: the applicant split is left out, not guessed
    assert ("requests", "granted", "natural_person") not in facts
    assert value("requests", "handled_total", "total") == 41
    assert value("requests", "handled_total", "commercial_enterprise") == 1
    assert value("requests", "withheld_prohibited_by_law", "total") == 0  # '00000002.其他…'
    assert value("reviews", "reconsideration", "total") == 3
    assert value("reviews", "litigation_direct", "total") == 2
    assert value("reviews", "litigation_after_reconsideration", "total") == 0
    assert value("proactive", "rules", "issued") == 0
    assert value("proactive", "administrative_licensing", "decisions") == 86
    # '3512' into three columns has several readings and no identity: skipped
    assert ("proactive", "normative_documents", "issued") not in facts


def test_markdown_with_placeholder_headers_and_split_review_tables():
    _, facts = flat("flat_markdown_2021.txt")
    value = lambda *k: facts[k].value  # noqa: E731
    assert value("requests", "received_new", "total") == 130
    assert value("requests", "received_new", "legal_service_org") == 2
    assert value("requests", "granted", "total") == 55
    assert value("requests", "handled_total", "total") == 128
    assert value("requests", "carried_forward", "total") == 11
    assert value("reviews", "reconsideration", "total") == 11
    assert value("reviews", "litigation_direct", "total") == 2
    assert value("reviews", "litigation_after_reconsideration", "upheld") == 2


def test_one_cell_per_line_2019_with_signed_change():
    text = ("二、主动公开政府信息情况\n第二十条第(五)项\n信息内容\n上一年项目数量\n本年增/减\n处理决定数量\n"
            "行政许可\n14\n+6\n52\n第二十条第(九)项\n信息内容\n采购项目数量\n采购总金额\n政府集中采购\n3\n12.6万元\n"
            "三、收到和处理政府信息公开申请情况\n")
    facts = {f.key: f for f in parse_flat_tables(text, "table_2019")}
    assert facts[("proactive", "administrative_licensing", "items_change")].value == 6
    assert facts[("proactive", "administrative_licensing", "decisions")].value == 52
    amount = facts[("proactive", "centralized_procurement", "amount")]
    assert (amount.value, amount.unit) == (12.6, "万元")


def test_decode_keeps_only_admissible_readings():
    adds_up = lambda v: sum(v[:-1]) == v[-1]  # noqa: E731
    assert decode(["151300000154"], 7, adds_up) == []
    assert decode(["15130000154"], 7, adds_up) == [[151, 3, 0, 0, 0, 0, 154]]
    assert decode(["1", "2", "3"], 3, adds_up) == [[1, 2, 3]]


STACKED = """三、收到和处理政府信息公开申请情况
一、本年新收政府信息公开申请数量 9 0 0 0 0 0 9
三、本年度办理结果
（一）予以公开
（二）部分公开（区分处理的，只计这一情形，不计其他情形）
4 1 0 0 0 0 5
2 0 0 0 0 0 2
（三）不予公开 1.属于国家秘密 0 0 0 0 0 0 0
"""


def _totals(text: str) -> dict:
    return {f.dims["row"]: f.value for f in request_text_facts(text, "table_2021") if f.dims["applicant"] == "total"}


def test_rows_printed_above_their_numbers_get_them_in_order():
    # a flattening that printed two labels, then both rows of numbers: nothing shifts up
    assert _totals(STACKED) == {"received_new": 9, "granted": 5, "partially_granted": 2, "withheld_state_secret": 0}


def test_numbers_of_more_rows_than_labels_are_left_unstated():
    # one label over two rows of numbers: which row is missing cannot be told, so no value is kept
    text = STACKED.replace("（一）予以公开\n", "")
    assert _totals(text) == {"received_new": 9, "withheld_state_secret": 0}


def test_stacked_rows_that_do_not_add_up_are_left_unstated():
    text = STACKED.replace("2 0 0 0 0 0 2", "2 0 0 0 0 0 7")
    assert "granted" not in _totals(text) and "partially_granted" not in _totals(text)
