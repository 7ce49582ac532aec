"""Word 97 .doc, WPS .wps, Excel .xls/.xlsx and WPS .et attachments: text and table grids
through the same table readers as HTML, detection by content, and hostile files refused with
one-line reasons. The fixtures are invented reports (tests/fixtures/office/report_content.py),
written by tests/fixtures/office/make_fixtures.py (python-docx/openpyxl, then LibreOffice)."""
from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from warehouse.parse import parse_bytes
from warehouse.parse.documents import DocumentLimits, DocumentTooLarge, UnsupportedDocument
from warehouse.parse.formats import detect_kind, load_document
from warehouse.parse.spreadsheets import cell_text

OFFICE = Path(__file__).parent / "fixtures" / "office"
sys.path.insert(0, str(OFFICE))
import report_content as rc  # noqa: E402

FORMATS_2021 = [  # file, input_kind, agency
    ("report_2021.doc", "doc", "松涧县自然资源局"),
    ("report_2021.wps", "wps", "松涧县林业局"),
    ("report_2021.xls", "xls", "松涧县自然资源局"),
    ("report_2021.xlsx", "xlsx", "松涧县自然资源局"),
    ("report_2021.et", "et", "松涧县水利局"),
]


def data(name: str) -> bytes:
    return (OFFICE / name).read_bytes()


def facts_of(report) -> dict[str, float]:
    return {"/".join(fact.key): fact.value for fact in report.facts}


def reason(body: bytes, filename: str, limits: DocumentLimits | None = None) -> str:
    with pytest.raises(UnsupportedDocument) as caught:
        load_document(body, filename=filename, **({"limits": limits} if limits else {}))
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


@pytest.mark.parametrize("name,kind,agency", FORMATS_2021)
def test_table_2021_report_in_each_format(name, kind, agency):
    report = parse_bytes(data(name), filename=name)
    assert (report.input_kind, report.era, report.report_year, report.agency_name) == (kind, "table_2021", 2023, agency)
    facts = facts_of(report)
    for key, value in rc.EXPECTED_2021.items():
        assert facts[key] == value, key
    assert facts["proactive/administrative_penalty/decisions"] == 36
    assert facts["requests/withheld_process_information/total"] == 2
    assert facts["reviews/litigation_direct/total"] == 3
    assert report.checks and all(check.passed for check in report.checks), [c for c in report.checks if not c.passed]


@pytest.mark.parametrize("name,tables", [("report_2021.doc", rc.TABLES_2021), ("report_2021.wps", rc.TABLES_2021),
                                         ("report_2019.doc", rc.TABLES_2019)])
def test_word97_grids_repeat_merged_cells_like_the_other_readers(name, tables):
    doc = load_document(data(name), filename=name)
    assert [table.rows for table in doc.tables] == [grid for _, grid, _ in tables]
    assert "五、存在的主要问题及改进情况" in doc.text
    if tables is rc.TABLES_2021:
        assert doc.text.splitlines()[1].startswith("本报告按照国办公开办函〔2021〕30号")


@pytest.mark.parametrize("name", ["report_2021.xls", "report_2021.xlsx", "report_2021.et"])
def test_each_sheet_is_one_grid_with_merged_ranges_repeated(name):
    doc = load_document(data(name), filename=name)
    grids = [grid for _, grid, _ in rc.TABLES_2021]
    assert [table.rows for table in doc.tables[1:]] == grids[1:]
    assert doc.tables[0].rows[1:] == grids[0]
    assert doc.title.endswith("2023年政府信息公开工作年度报告")
    # the received total is a formula in the workbook: read by its cached value, as "38" not "38.0"
    assert doc.tables[1].rows[3][9] == "38"


def test_table_2019_report_as_doc():
    report = parse_bytes(data("report_2019.doc"), filename="report_2019.doc")
    assert (report.input_kind, report.era, report.report_year, report.agency_name) == ("doc", "table_2019", 2019, "柏溪镇人民政府")
    facts = facts_of(report)
    for key, value in rc.EXPECTED_2019.items():
        assert facts[key] == value, key
    assert facts["proactive/administrative_licensing/decisions"] == 88
    assert all(check.passed for check in report.checks)


def test_tracked_deletions_are_not_read():
    """revised_2021.doc: "29" deleted and "31" inserted with track changes on. The deleted digits
    stay in the text stream; read with them the cell would say 2931."""
    doc = load_document(data("revised_2021.doc"), filename="revised_2021.doc")
    assert doc.tables[1].rows[3][3] == "31"
    assert "29" not in doc.tables[1].rows[3]
    report = parse_bytes(data("revised_2021.doc"), filename="revised_2021.doc")
    assert facts_of(report)["requests/received_new/natural_person"] == 31
    assert all(check.passed for check in report.checks)


def test_cell_text_as_the_sheet_shows_it():
    assert [cell_text(v) for v in (12.0, 42.5, 7, "", None, 0.1 + 0.2, " 行政 许可 ")] == \
        ["12", "42.5", "7", "", "", "0.3", "行政 许可"]


# ---------------------------------------------------------------- detection


def test_detection_by_content_when_the_name_lies():
    assert detect_kind(data("report_2021.xls"), "report.pdf") == "xls"
    assert detect_kind(data("report_2021.doc"), "report.xlsx") == "doc"
    assert detect_kind(data("report_2021.xlsx"), "report.docx", "application/msword") == "xlsx"
    assert detect_kind(data("report_2021.doc"), "download.bin") == "doc"
    # which of the OLE kinds sharing a stream layout: the name breaks the tie
    assert detect_kind(data("report_2021.doc"), "报告.wps") == "wps"
    assert detect_kind(data("report_2021.xls"), "报告.et") == "et"
    assert detect_kind(data("report_2021.xls"), "attachment", "application/vnd.ms-excel") == "xls"
    # a spreadsheet name on plain text (a CSV export) is not a corrupt workbook
    assert detect_kind("项目,数量\n行政许可,214\n".encode(), "table.xls") == "text"
    assert detect_kind(b"\xd0\xcf\x11\xe0" + b"\0" * 10) == "doc"


def test_an_ooxml_et_workbook():
    """Newer WPS versions may save .et as OOXML: a zip with xl/ parts under the .et name."""
    assert detect_kind(data("report_2021.xlsx"), "统计表.et") == "et"
    report = parse_bytes(data("report_2021.xlsx"), filename="统计表.et")
    assert report.input_kind == "et" and facts_of(report)["requests/received_new/total"] == 38


def test_an_excel_html_export_named_xls_is_read_as_html():
    page = ("<html xmlns:o=\"urn:schemas-microsoft-com:office:office\" xmlns:x=\"urn:schemas-microsoft-com:office:excel\">"
            "<head><meta charset=\"gb2312\"></head><body><table>"
            "<tr><td colspan=\"2\">松涧县自然资源局2023年政府信息公开工作年度报告</td></tr>"
            "<tr><td>行政许可</td><td>214</td></tr></table></body></html>").encode("gb18030")
    assert detect_kind(page, "统计表.xls", "application/vnd.ms-excel") == "html"
    doc = load_document(page, filename="统计表.xls")
    assert doc.kind == "html" and doc.tables[0].rows[1] == ["行政许可", "214"]


def test_rtf_under_a_doc_name():
    body = "{\\rtf1\\ansi 松涧县自然资源局2023年政府信息公开工作年度报告}".encode()
    assert reason(body, "report.doc") == "Word 97 .doc is an RTF document, not Word 97 (RTF is not read)"


def test_a_renamed_workbook_parses_by_its_content():
    report = parse_bytes(data("report_2021.xls"), filename="统计表.pdf")
    assert report.input_kind == "xls"
    assert facts_of(report)["requests/received_new/total"] == 38


# ---------------------------------------------------------------- hostile inputs


def _patched_ole(tmp_path: Path, name: str, stream: str, patch) -> bytes:
    import olefile

    path = tmp_path / name
    path.write_bytes(data(name))
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        body = bytearray(ole.openstream(stream).read())
        patch(body)
        ole.write_stream(stream, bytes(body))
    return path.read_bytes()


def test_password_protected_doc_and_wps(tmp_path):
    def encrypt(body):  # FIB flag fEncrypted (what Word sets for a password-protected file)
        body[0x0B] |= 0x01
    for name in ("report_2021.doc", "report_2021.wps"):
        body = _patched_ole(tmp_path, name, "WordDocument", encrypt)
        assert reason(body, name).endswith("is encrypted and needs a password")


def test_password_protected_xls(tmp_path):
    def encrypt(body):  # the globals' WRITEACCESS record retyped as FILEPASS
        at = 0
        while at + 4 <= len(body):
            record, size = struct.unpack_from("<HH", body, at)
            if record == 0x005C:
                struct.pack_into("<H", body, at, 0x002F)
                return
            at += 4 + size
        raise AssertionError("no WRITEACCESS record")
    body = _patched_ole(tmp_path, "report_2021.xls", "Workbook", encrypt)
    assert reason(body, "report_2021.xls") == "Excel 97 .xls is encrypted and needs a password"


def test_password_protected_xlsx_is_an_ole_container():
    # encrypted_2021.xlsx: report_2021.xlsx encrypted once with msoffcrypto-tool 6.1.0
    # (OOXMLFile(...).encrypt("songjian2023", out)): an OLE2 file holding EncryptionInfo and
    # EncryptedPackage streams, as Excel and WPS save a password-protected workbook.
    body = data("encrypted_2021.xlsx")
    assert body.startswith(b"\xd0\xcf\x11\xe0")
    assert detect_kind(body, "encrypted_2021.xlsx") == "xlsx"
    assert reason(body, "encrypted_2021.xlsx") == "Excel .xlsx is encrypted and needs a password"
    assert reason(body, "report.docx") == "DOCX is encrypted and needs a password"
    assert parse_bytes(body, filename="报告.xlsx").status == "unsupported"


def test_corrupt_ole_files(tmp_path):
    import random

    rnd = random.Random(14)
    noise = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(rnd.randrange(256) for _ in range(4096))
    assert "corrupt OLE2 file" in reason(noise, "a.doc")
    assert "corrupt OLE2 file" in reason(noise, "a.xls")
    garbage = _patched_ole(tmp_path, "report_2021.doc", "WordDocument",
                           lambda body: body.__setitem__(slice(0, 64), bytes(64)))
    assert "has no Word 97 file information block" in reason(garbage, "report_2021.doc")


@pytest.mark.parametrize("name,cut", [("report_2021.doc", 34_304), ("report_2021.wps", 3_000),
                                      ("report_2021.xls", 6_656), ("report_2021.et", 100),
                                      ("report_2021.xlsx", 5_000)])
def test_truncated_files(name, cut):
    message = reason(data(name)[:cut], name)
    assert "truncated" in message or "corrupt" in message


def test_xlsx_zip_bomb_is_refused_before_inflating():
    import time

    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data("report_2021.xlsx"))) as source, \
            zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            body = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(b"<sheetData>", b"<sheetData>" + b"<row r=\"9999\"/>" * 2_000_000, 1)
            bomb.writestr(item, body)
    started = time.process_time()
    with pytest.raises(DocumentTooLarge) as caught:
        load_document(buf.getvalue(), filename="bomb.xlsx")
    assert time.process_time() - started < 0.5
    assert "Excel .xlsx member xl/worksheets/sheet1.xml inflates" in str(caught.value)


def test_ole_and_sheet_limits():
    limits = DocumentLimits(max_ole_stream_bytes=4_000)
    with pytest.raises(DocumentTooLarge, match="stream WordDocument has .* bytes"):
        load_document(data("report_2021.doc"), filename="a.doc", limits=limits)
    with pytest.raises(DocumentTooLarge, match="OLE streams"):
        load_document(data("report_2021.xls"), filename="a.xls", limits=DocumentLimits(max_ole_streams=3))
    doc = load_document(data("report_2021.xlsx"), filename="a.xlsx", limits=DocumentLimits(max_sheets=1))
    assert len(doc.tables) == 1 and doc.notes == ["3 worksheets: only the first 1 are read"]
    doc = load_document(data("report_2021.xls"), filename="a.xls", limits=DocumentLimits(max_sheet_cells=100))
    assert len(doc.tables) == 2  # the 28 x 10 sheet of table 三 is not read
    assert "worksheet 三、收到和处理 spans 28 x 10 cells (limit 100): not read" in doc.notes


@pytest.mark.slow
@pytest.mark.parametrize("name,kind", [(name, kind) for name, kind, _ in FORMATS_2021])
def test_cli_parse_json(name, kind):
    exe = shutil.which("disclosure", path=str(Path(sys.executable).parent))
    out = subprocess.run([exe, "parse", str(OFFICE / name), "--json"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["input_kind"] == kind and report["era"] == "table_2021" and report["report_year"] == 2023
    received = [f for f in report["facts"] if f["table"] == "requests" and f["row"] == "received_new"
                and f["applicant"] == "total"]
    assert [f["value"] for f in received] == [38]
    assert all(check["passed"] for check in report["checks"])


def _xlsx_with_sheet_xml(edit) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active["A1"] = "柳塘镇2023年政府信息公开工作年度报告"
    book.active["B2"] = 5
    buf, out = io.BytesIO(), io.BytesIO()
    book.save(buf)
    with zipfile.ZipFile(buf) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            body = source.read(item)
            target.writestr(item, edit(body) if item.filename == "xl/worksheets/sheet1.xml" else body)
    return out.getvalue()


def test_a_merged_range_over_the_whole_sheet_fills_only_its_cells():
    body = _xlsx_with_sheet_xml(lambda xml: xml.replace(
        b"</sheetData>", b'</sheetData><mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>'))
    doc = load_document(body, filename="merged.xlsx")
    assert doc.tables[0].rows == [["柳塘镇2023年政府信息公开工作年度报告"] * 2] * 2


def test_one_sheet_holding_all_three_tables():
    """Attachments often stack tables 二, 三 and 四 on one sheet under their headings."""
    from openpyxl import Workbook

    from make_fixtures import _value, covered

    book = Workbook()
    sheet = book.active
    sheet.cell(1, 1, rc.T21)
    top = 2
    for heading, grid, merges in rc.TABLES_2021:
        sheet.cell(top, 1, heading)
        cover = covered(merges)
        for r, row in enumerate(grid):
            for c, text in enumerate(row):
                if cover.get((r, c), (r, c)) == (r, c):
                    sheet.cell(top + 1 + r, c + 1, _value(text))
        for r0, c0, r1, c1 in merges:
            sheet.merge_cells(start_row=top + 1 + r0, start_column=c0 + 1, end_row=top + 1 + r1, end_column=c1 + 1)
        top += len(grid) + 2
    buf = io.BytesIO()
    book.save(buf)
    report = parse_bytes(buf.getvalue(), filename="统计表.xlsx")
    assert (report.era, report.report_year, report.agency_name) == ("table_2021", 2023, "松涧县自然资源局")
    facts = facts_of(report)
    for key, value in rc.EXPECTED_2021.items():
        assert facts[key] == value, key
    assert all(check.passed for check in report.checks)


def test_mutated_files_end_as_documents_or_reasons():
    """Random byte changes and cuts of each format: a Document or an UnsupportedDocument, in bounded time."""
    import random
    import time

    rnd = random.Random(14)
    for name in ("report_2021.doc", "report_2021.xls", "report_2021.xlsx"):
        base = data(name)
        for _ in range(40):
            body = bytearray(base)
            for _ in range(rnd.choice([1, 5, 50])):
                body[rnd.randrange(len(body))] = rnd.randrange(256)
            if rnd.random() < 0.2:
                body = body[:rnd.randrange(len(body))]
            started = time.process_time()
            try:
                load_document(bytes(body), filename=name)
            except UnsupportedDocument as exc:
                assert "\n" not in str(exc)
            assert time.process_time() - started < 2.0


def test_grid_and_document_table_limits():
    from warehouse.parse.html_tables import TableLimits

    tight = DocumentLimits(tables=TableLimits(max_cells=100))
    doc = load_document(data("report_2021.doc"), filename="a.doc", limits=tight)
    assert [len(table.rows) for table in doc.tables] == [14, 10, 4]
    assert doc.notes == ["table 2: grid cut to its first 10 of 28 rows: 11 rows x 10 columns pass 100 cells"]
    doc = load_document(data("report_2021.xls"), filename="a.xls", limits=tight)
    assert [len(table.rows) for table in doc.tables] == [15, 10, 4]
    doc = load_document(data("report_2021.doc"), filename="a.doc", limits=DocumentLimits(max_document_cells=300))
    assert [len(table.rows) for table in doc.tables] == [14]
    assert doc.notes == ["the document's tables pass 300 cells: this table and the tables after it are not read"]
