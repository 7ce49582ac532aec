"""Character folds and the once-per-document normalisation used by the parser's fast paths."""
from warehouse.facts import Fact
from warehouse.parse import _tables_left_to_text
from warehouse.parse.documents import Document
from warehouse.parse.numbers import to_halfwidth
from warehouse.parse.textnorm import _simplified_char, normalise_text, to_simplified
from warehouse.parse.text_tables import FLAT_TABLES, parse_flat_tables


def _halfwidth_reference(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:
            out.append(chr(code - 0xFEE0))
        elif ch in ("\u3000", "\xa0"):
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


SAMPLE = "２０２１年（一）國務院辦公廳\u3000ＡＢＣ\xa0１２３！～ 開(kāi)放 abc (www) 〔2019〕60号 \U0001F600"


def test_to_halfwidth_matches_character_rule():
    every = "".join(chr(c) for c in range(0x20, 0x3100)) + "".join(chr(c) for c in range(0xFF00, 0xFFF0))
    assert to_halfwidth(every) == _halfwidth_reference(every)
    assert to_halfwidth(SAMPLE) == _halfwidth_reference(SAMPLE)


def test_to_simplified_keeps_length_and_folds_characters():
    out = to_simplified(SAMPLE)
    assert len(out) == len(SAMPLE)
    assert out == "".join(_simplified_char(ch) if ord(ch) > 0x2E80 else ch for ch in SAMPLE)
    assert "国务院办公厅" in out


def test_folds_match_the_character_rules_on_every_character():
    # the folds replace only the characters their tables list: none may be missing
    # (CJK characters reach plane 3; zhconv simplifies some of planes 2 and 3)
    every = "".join(chr(c) for c in range(0x20, 0x32000) if not 0xD800 <= c < 0xE000)
    simplified = "".join(_simplified_char(ch) if ord(ch) > 0x2E80 else ch for ch in every)
    assert to_simplified(every) == simplified
    assert normalise_text(every).text == _halfwidth_reference(simplified)


def test_normalise_text_drops_pinyin_and_keeps_offsets():
    norm = normalise_text(SAMPLE)
    assert "(kāi)" not in norm.text and "(www)" in norm.text
    assert norm.text == to_halfwidth(to_simplified(SAMPLE.replace("(kāi)", "")))
    assert len(norm.offsets) == len(norm.text)
    for i, offset in enumerate(norm.offsets):
        assert norm.text[i] == to_halfwidth(to_simplified(SAMPLE[offset]))


def test_document_normalised_once():
    doc = Document(kind="text", text=SAMPLE)
    assert doc.normalised is doc.normalised
    assert doc.normalised == normalise_text(SAMPLE)


def test_flat_tables_only_for_tables_the_grids_left_out():
    grid_facts = [Fact("reviews", {"proceeding": "reconsideration", "result": "total"}, 0)]
    html = Document(kind="html", text="")
    assert _tables_left_to_text(html, []) == FLAT_TABLES
    assert _tables_left_to_text(html, grid_facts) == ("proactive", "requests")
    # PDF text comes from its own extraction: every table is read from it too
    assert _tables_left_to_text(Document(kind="pdf", text=""), grid_facts) == FLAT_TABLES
    assert parse_flat_tables("第二十条 收到和处理政府信息公开申请 行政复议、行政诉讼情况", "table_2021", ()) == []
