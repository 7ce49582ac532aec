import io
import zipfile
from pathlib import Path

import pytest

from warehouse.parse.documents import UnsupportedDocument, decode_bytes
from warehouse.parse.formats import detect_kind, load_document
from warehouse.parse.tables import parse_table_facts

FIXTURES = Path(__file__).parent / "fixtures" / "tables"

REQUEST_HEADER = [
    ["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "", "申请人情况", "", "", "", "", "", ""],
    ["", "", "自然人", "法人或其他组织", "", "", "", "", "总计"],
    ["", "", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", ""],
]
REQUEST_ROWS = [
    ["一、本年新收政府信息公开申请数量", "", "17", "2", "0", "0", "0", "0", "19"],
    ["二、上年结转政府信息公开申请数量", "", "1", "0", "0", "0", "0", "0", "1"],
    ["三、本年度办理结果", "（一）予以公开", "9", "1", "0", "0", "0", "0", "10"],
    ["", "（七）总计", "16", "2", "0", "0", "0", "0", "18"],
    ["四、结转下年度继续办理", "", "2", "0", "0", "0", "0", "0", "2"],
]


def test_utf8_page_declared_gb2312_and_metadata():
    doc = load_document((FIXTURES / "report_2019.html").read_bytes(), filename="a.html")
    assert doc.kind == "html"
    assert doc.title == "青禾县农业农村局2020年政府信息公开工作年度报告"
    assert doc.meta["发布机构"] == "青禾县农业农村局"
    assert doc.meta["索引号"] == "QH-NY-2021-0007"
    assert doc.meta["PubDate"] == "2021-01-28 09:30"
    assert "99" not in doc.text.split("\n")[0]  # script dropped
    assert "本年新收政府信息公开申请数量 | 40 | 5" in doc.text  # tables are in the text, one row a line
    assert len(doc.tables) == 4


def test_gbk_page_declared_utf8():
    data = (FIXTURES / "report_2021_gbk.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    doc = load_document(data)
    assert doc.title == "云岭市示范区管委会2022年政府信息公开工作年度报告"
    assert "行政事业性收费 | 318.64" in doc.text


def test_decode_bytes_bom_and_gb18030():
    assert decode_bytes("\ufeff政府".encode("utf-8")) == "政府"
    assert decode_bytes("政府信息公开".encode("gb18030"), declared="utf-8") == "政府信息公开"


def test_crawler_text_dump_header():
    doc = load_document((FIXTURES / "flat_glued_2021.txt").read_bytes(), filename="page.txt")
    assert doc.kind == "text"
    assert doc.title == "石桥镇2023年度政府信息公开工作年度报告"
    assert doc.meta["发布机构"] == "石桥镇人民政府"


def test_pdf_with_drawn_table(tmp_path):
    reportlab = pytest.importorskip("reportlab")  # noqa: F841
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle
    from reportlab.lib.styles import ParagraphStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    style = ParagraphStyle("cn", fontName="STSong-Light", fontSize=10)
    rows = [r[:] for r in REQUEST_HEADER + REQUEST_ROWS]
    rows[0][0] = "（本列数据的勾稽关系）"
    table = Table(rows)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), "STSong-Light"), ("FONTSIZE", (0, 0), (-1, -1), 7),
        ("GRID", (0, 0), (-1, -1), 0.5, "black"),
        ("SPAN", (0, 0), (1, 2)), ("SPAN", (2, 0), (8, 0)), ("SPAN", (2, 1), (2, 2)),
        ("SPAN", (3, 1), (7, 1)), ("SPAN", (8, 1), (8, 2)),
        ("SPAN", (0, 3), (1, 3)), ("SPAN", (0, 4), (1, 4)), ("SPAN", (0, 5), (0, 6)), ("SPAN", (0, 7), (1, 7)),
    ]))
    path = tmp_path / "report.pdf"
    SimpleDocTemplate(str(path), pagesize=landscape(A4)).build(
        [Paragraph("望江县2022年政府信息公开工作年度报告", style),
         Paragraph("三、收到和处理政府信息公开申请情况", style), table,
         Paragraph("- 3 -", style)])
    doc = load_document(path.read_bytes(), filename="report.pdf")
    assert doc.kind == "pdf"
    assert "- 3 -" not in doc.text
    facts = {f.key: f.value for f in parse_table_facts(doc.tables, "table_2021")}
    assert facts[("requests", "received_new", "total")] == 19
    assert facts[("requests", "received_new", "commercial_enterprise")] == 2
    assert facts[("requests", "granted", "total")] == 10
    assert facts[("requests", "handled_total", "natural_person")] == 16
    assert facts[("requests", "carried_forward", "total")] == 2


def test_docx_with_merged_cells(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("望江县2022年政府信息公开工作年度报告")
    rows = REQUEST_HEADER + REQUEST_ROWS
    table = document.add_table(rows=len(rows), cols=9)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            if text:
                table.cell(r, c).text = text
    table.cell(0, 0).merge(table.cell(2, 1))
    table.cell(0, 2).merge(table.cell(0, 8))
    table.cell(1, 3).merge(table.cell(1, 7))
    table.cell(1, 8).merge(table.cell(2, 8))
    table.cell(5, 0).merge(table.cell(6, 0))
    buffer = io.BytesIO()
    document.save(buffer)
    doc = load_document(buffer.getvalue(), filename="report.docx")
    assert doc.kind == "docx"
    assert doc.tables[0].rows[2][8] == "总计"  # vertical merge repeats its text
    facts = {f.key: f.value for f in parse_table_facts(doc.tables, "table_2021")}
    assert facts[("requests", "received_new", "total")] == 19
    assert facts[("requests", "handled_total", "total")] == 18


def test_kind_detection():
    assert detect_kind(b"%PDF-1.7 ...") == "pdf"
    assert detect_kind(b"<html><body>x</body></html>", filename="x.txt") == "html"
    assert detect_kind("纯文本".encode(), filename="a.txt") == "text"
    assert detect_kind(b"\xd0\xcf\x11\xe0" + b"\0" * 10) == "doc"


@pytest.mark.parametrize("data,filename", [
    (b"", "a.txt"),
    (b"%PDF-1.4\n%broken", "a.pdf"),
    (b"not a zip at all", "a.docx"),
    (bytes(range(256)) * 20, "blob.bin"),
])
def test_unreadable_inputs_raise_unsupported(data, filename):
    with pytest.raises(UnsupportedDocument):
        load_document(data, filename=filename)


def test_docx_zip_without_document_raises():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("hello.txt", "x")
    with pytest.raises(UnsupportedDocument):
        load_document(buffer.getvalue(), filename="a.docx")


def test_pdf_table_cut_by_page_break_and_blank_review_row(tmp_path):
    """Table 三 continues on the next page without its header (and with its labels over
    two columns); table 四's data row is all blank cells: a row of zeros, not dropped."""
    pytest.importorskip("reportlab")
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    style = ParagraphStyle("cn", fontName="STSong-Light", fontSize=10)

    def drawn(rows, spans=()):
        table = Table(rows)
        table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "STSong-Light"),
                                   ("FONTSIZE", (0, 0), (-1, -1), 6),
                                   ("GRID", (0, 0), (-1, -1), 0.5, "black")]
                                  + [("SPAN", a, b) for a, b in spans]))
        return table

    header = [["（本列数据的勾稽关系）", "申请人情况", "", "", "", "", "", ""],
              ["", "自然人", "法人或其他组织", "", "", "", "", "总计"],
              ["", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", ""]]
    first = drawn(header + [["一、本年新收政府信息公开申请数量", "12", "3", "", "", "", "1", "16"],
                            ["二、上年结转政府信息公开申请数量", "2", "", "", "", "", "", "2"]],
                  [((0, 0), (0, 2)), ((1, 0), (7, 0)), ((1, 1), (1, 2)), ((2, 1), (6, 1)), ((7, 1), (7, 2))])
    rest = drawn([["三、本年度办理结果", "（一）予以公开", "8", "2", "", "", "", "1", "11"],
                  ["", "（七）总计", "13", "3", "", "", "", "1", "17"],
                  ["四、结转下年度继续办理", "", "1", "", "", "", "", "", "1"]],
                 [((0, 0), (0, 1)), ((0, 2), (1, 2))])
    results = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    reviews = drawn([["行政复议"] + [""] * 4 + ["行政诉讼"] + [""] * 9,
                     results + ["未经复议直接起诉"] + [""] * 4 + ["复议后起诉"] + [""] * 4,
                     [""] * 5 + results * 2,
                     [""] * 15],
                    [((0, 0), (4, 0)), ((5, 0), (14, 0)), ((5, 1), (9, 1)), ((10, 1), (14, 1))]
                    + [((c, 1), (c, 2)) for c in range(5)])
    path = tmp_path / "report.pdf"
    SimpleDocTemplate(str(path), pagesize=landscape(A4)).build(
        [Paragraph("三、收到和处理政府信息公开申请情况", style), first, PageBreak(), rest,
         Paragraph("四、政府信息公开行政复议、行政诉讼情况", style), reviews])
    doc = load_document(path.read_bytes(), filename="report.pdf")
    facts = {f.key: f.value for f in parse_table_facts(doc.tables, "table_2021")}
    assert facts[("requests", "received_new", "total")] == 16
    assert facts[("requests", "carried_over", "natural_person")] == 2
    assert facts[("requests", "granted", "total")] == 11
    assert facts[("requests", "granted", "commercial_enterprise")] == 2
    assert facts[("requests", "handled_total", "other_org")] == 1
    assert facts[("requests", "carried_forward", "total")] == 1
    reviews_found = {k: v for k, v in facts.items() if k[0] == "reviews"}
    assert len(reviews_found) == 15 and set(reviews_found.values()) == {0}


def test_pdf_grid_keeps_blank_cell_rows_not_misalignment_bands():
    from warehouse.parse.pdf import pdf_table_grid

    texts = {(0, 0, 50, 20): "维持", (50, 0, 100, 20): "总计",
             (0, 20, 50, 43): "", (50, 23, 100, 43): ""}  # blank cells, top edges 3pt apart

    grid = pdf_table_grid(list(texts), texts.__getitem__)
    assert grid == [["维持", "总计"], ["", ""]]  # the 3pt band between the edges is no row
