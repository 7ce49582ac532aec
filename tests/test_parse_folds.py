"""Character folds and the once-per-document normalisation used by the parser's fast paths."""
from warehouse.facts import Fact
from warehouse.parse import _tables_left_to_text
from warehouse.parse.documents import Document
from warehouse.parse.numbers import to_halfwidth
from warehouse.parse.textnorm import _simplified_char, fold_characters, is_traditional, normalise_text, to_simplified
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
    assert fold_characters(every) == _halfwidth_reference(simplified)


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


def test_traditional_mirror_is_converted_phrase_by_phrase_with_printed_offsets():
    # a mirror in traditional script with Taiwan terms and '????' noise
    printed = "本年度主動公開規範性檔案12件，經由入口網站？？？？發佈，網路申請(shēn)3件"
    norm = normalise_text(printed)
    assert is_traditional(printed)
    assert norm.text == "本年度主动公开规范性文件12件,经由门户网站发布,网络申请3件"
    at = norm.text.index("规范性文件")
    assert printed[slice(*norm.original_span(at, at + 5))] == "規範性檔案"
    at = norm.text.index("3件")
    assert printed[slice(*norm.original_span(at, at + 2))] == "3件"


def test_mainland_words_survive_a_character_by_character_mirror():
    # OpenCC's tw2sp would turn these into 查找 / 运行 / 文档 / 创建: the rules need them as printed
    printed = "屬於行政查詢事項，嚴格執行，規范性文件，建立健全，縣檔案館"
    assert normalise_text(printed).text == "属于行政查询事项,严格执行,规范性文件,建立健全,县档案馆"


def test_simplified_text_is_not_converted_phrase_by_phrase():
    text = "本机关主动公开政府信息25条，其中规范性文件3件；乾隆年间的档案"
    assert not is_traditional(text)
    assert normalise_text(text).offsets == range(len(text))
