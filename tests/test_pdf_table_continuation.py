"""Table 三 cut by a page break inside a group of rows: the group cell (（四）无法提供)
stays on the first page, so the continued rows start with nothing but their numbered
sub-label ('2.没有现成信息需要另行制作'), which is a label and not the number 2."""
import pytest

from warehouse.parse import parse_bytes
from warehouse.parse.formats import load_document
from warehouse.parse.tables import parse_table_facts

APPLICANTS = ("natural_person", "commercial_enterprise", "research_institution", "public_welfare_org",
              "legal_service_org", "other_org", "total")

# (group label, sub-row label, figures of the six applicant types); the total is added below.
FIRST_PAGE = [
    ("一、本年新收政府信息公开申请数量", None, (20, 4, 0, 1, 0, 1)),
    ("二、上年结转政府信息公开申请数量", None, (2, 0, 0, 0, 0, 0)),
    ("（一）予以公开", None, (9, 2, 0, 0, 0, 1)),
    ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", None, (3, 0, 0, 0, 0, 0)),
    ("（三）不予公开", "1.属于国家秘密", (0, 0, 0, 0, 0, 0)),
    ("（三）不予公开", "2.其他法律行政法规禁止公开", (0, 0, 0, 0, 0, 0)),
    ("（三）不予公开", "3.危及“三安全一稳定”", (0, 0, 0, 0, 0, 0)),
    ("（三）不予公开", "4.保护第三方合法权益", (1, 0, 0, 0, 0, 0)),
    ("（三）不予公开", "5.属于三类内部事务信息", (0, 0, 0, 0, 0, 0)),
    ("（三）不予公开", "6.属于四类过程性信息", (0, 0, 0, 0, 0, 0)),
    ("（三）不予公开", "7.属于行政执法案卷", (0, 0, 0, 0, 0, 0)),
    ("（三）不予公开", "8.属于行政查询事项", (0, 0, 0, 0, 0, 0)),
    ("（四）无法提供", "1.本机关不掌握相关政府信息", (2, 1, 0, 0, 0, 0)),
]
NEXT_PAGE = [
    (None, "2.没有现成信息需要另行制作", (1, 0, 0, 1, 0, 0)),
    (None, "3.补正后申请内容仍不明确", (0, 0, 0, 0, 0, 0)),
    ("（五）不予处理", "1.信访举报投诉类申请", (2, 0, 0, 0, 0, 0)),
    ("（五）不予处理", "2.重复申请", (1, 0, 0, 0, 0, 0)),
    ("（五）不予处理", "3.要求提供公开出版物", (0, 0, 0, 0, 0, 0)),
    ("（五）不予处理", "4.无正当理由大量反复申请", (1, 0, 0, 0, 0, 0)),
    ("（五）不予处理", "5.要求行政机关确认或重新出具已获取信息", (0, 0, 0, 0, 0, 0)),
    ("（六）其他处理", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", (1, 0, 0, 0, 0, 0)),
    ("（六）其他处理", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", (0, 0, 0, 0, 0, 0)),
    ("（六）其他处理", "3.其他", (0, 1, 0, 0, 0, 0)),
    ("（七）总计", None, (21, 4, 0, 1, 0, 1)),
    ("四、结转下年度继续办理", None, (1, 0, 0, 0, 0, 0)),
]
CONTINUED_ROWS = {  # row key -> its figures, for the rows after the page break
    "unavailable_needs_creation": (1, 0, 0, 1, 0, 0, 2),
    "unavailable_unclear": (0, 0, 0, 0, 0, 0, 0),
    "not_handled_petition": (2, 0, 0, 0, 0, 0, 2),
    "not_handled_repeated": (1, 0, 0, 0, 0, 0, 1),
    "not_handled_publication": (0, 0, 0, 0, 0, 0, 0),
    "not_handled_excessive": (1, 0, 0, 0, 0, 0, 1),
    "not_handled_confirmation": (0, 0, 0, 0, 0, 0, 0),
    "other_no_correction": (1, 0, 0, 0, 0, 0, 1),
    "other_fee_unpaid": (0, 0, 0, 0, 0, 0, 0),
    "other_other": (0, 1, 0, 0, 0, 0, 1),
    "handled_total": (21, 4, 0, 1, 0, 1, 27),
    "carried_forward": (1, 0, 0, 0, 0, 0, 1),
}
TOP_LEVEL = ("一、", "二、", "四、")  # rows labelled across the three label columns


def _render(path) -> None:
    """Two pages, ruled tables; labels wrap inside their cells as in real reports."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    text = ParagraphStyle("text", fontName="STSong-Light", fontSize=10, leading=14)
    cell = ParagraphStyle("cell", fontName="STSong-Light", fontSize=7, leading=8, wordWrap="CJK")
    widths = [12 * mm, 22 * mm, 38 * mm] + [13 * mm] * 7

    def table(rows, spans):
        # As in the reports whose text lost these rows: the figures, in a bigger font, sit
        # higher in their cells than the labels, so the text layer prints them on a line
        # of their own above the label (the grid is what keeps them together).
        data = [[c if c.isdigit() else Paragraph(c, cell) for c in row] for row in rows]
        style = [("FONTNAME", (0, 0), (-1, -1), "STSong-Light"), ("FONTSIZE", (3, 0), (-1, -1), 11),
                 ("GRID", (0, 0), (-1, -1), 0.5, "black"), ("VALIGN", (0, 0), (2, -1), "MIDDLE"),
                 ("VALIGN", (3, 0), (-1, -1), "TOP")]
        return Table(data, colWidths=widths, rowHeights=28, style=TableStyle(style + [("SPAN", a, b) for a, b in spans]))

    def body(entries, top, outcome_label):
        """Rows (from table row `top` on) and their spans: top-level rows span the three label
        columns; a group cell spans its sub-rows; column 0's outcome cell spans the outcome rows."""
        rows, spans = [], []
        outcome = [r for r, (group, _, _) in enumerate(entries) if not (group or "").startswith(TOP_LEVEL)]
        for r, (group, sub, figures) in enumerate(entries):
            values = [str(v) for v in figures] + [str(sum(figures))]
            if r not in outcome:
                rows.append([group, "", ""] + values)
                spans.append(((0, top + r), (2, top + r)))
            elif sub is None:
                rows.append(["", group, ""] + values)
                spans.append(((1, top + r), (2, top + r)))
            else:
                under = [i for i, (g, s, _) in enumerate(entries) if g == group and s]
                rows.append(["", (group or "") if r == under[0] else "", sub] + values)
                if r == under[0]:
                    spans.append(((1, top + under[0]), (1, top + under[-1])))
        rows[outcome[0]][0] = outcome_label
        spans.append(((0, top + outcome[0]), (0, top + outcome[-1])))
        return rows, spans

    header = [["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "", "", "申请人情况"] + [""] * 6,
              ["", "", "", "自然人", "法人或其他组织", "", "", "", "", "总计"],
              ["", "", "", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", ""]]
    header_spans = [((0, 0), (2, 2)), ((3, 0), (9, 0)), ((3, 1), (3, 2)), ((4, 1), (8, 1)), ((9, 1), (9, 2))]
    first_rows, first_spans = body(FIRST_PAGE, len(header), "三、本年度办理结果")
    # On the next page the group cells of （四） and 三、 go on, blank: their labels stayed behind.
    next_rows, next_spans = body(NEXT_PAGE, 0, "")
    SimpleDocTemplate(str(path), pagesize=A4).build([
        Paragraph("青禾县2024年政府信息公开工作年度报告", text),
        Paragraph("三、收到和处理政府信息公开申请情况", text),
        table(header + first_rows, header_spans + first_spans), PageBreak(),
        table(next_rows, next_spans),
        Paragraph("五、存在的主要问题及改进情况", text),
    ])


@pytest.fixture(scope="module")
def continued_pdf(tmp_path_factory):
    pytest.importorskip("reportlab")
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    _render(path)
    return path.read_bytes()


def test_grid_reads_the_rows_continued_under_a_group_cell_left_on_the_previous_page(continued_pdf):
    doc = load_document(continued_pdf, filename="report.pdf")
    assert [t.page for t in doc.tables] == [1, 2]
    facts = {f.key: f for f in parse_table_facts(doc.tables, "table_2021")}
    for row, figures in CONTINUED_ROWS.items():
        for applicant, value in zip(APPLICANTS, figures):
            fact = facts[("requests", row, applicant)]
            assert fact.value == value, (row, applicant)
            assert fact.source.startswith("table2!"), (row, applicant)  # read from the grid
    assert facts[("requests", "unavailable_not_held", "total")].value == 3
    assert facts[("requests", "received_new", "total")].value == 26


def test_continued_table_is_complete_and_adds_up(continued_pdf):
    report = parse_bytes(continued_pdf, filename="report.pdf")
    assert report.era == "table_2021"
    stated = {f.key[1] for f in report.facts if f.table == "requests"}
    assert set(CONTINUED_ROWS) <= stated
    checks = {c.check_name: c.passed for c in report.checks}
    assert checks["requests_outcomes_total"] and checks["requests_outcomes_natural_person"]
    assert checks["requests_balance_total"]
    assert all(checks.values()), [name for name, passed in checks.items() if not passed]
