"""Property tests of the number and label normalisers."""
from hypothesis import given, strategies as st

from warehouse.parse.numbers import normalise_label, parse_cell_number, parse_chinese_number

DIGITS = "零一二三四五六七八九"


def _below_10000(n: int, leading: bool) -> str:
    """Standard Chinese numeral for 0 < n < 10000 ('一千零五', '十二' when leading)."""
    out, zero_pending = "", False
    for unit_value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // unit_value % 10
        if digit == 0:
            zero_pending = bool(out)
            continue
        if zero_pending:
            out += "零"
            zero_pending = False
        out += ("" if (digit == 1 and unit == "十" and not out and leading) else DIGITS[digit]) + unit
    return out


def to_chinese(n: int) -> str:
    if n == 0:
        return "零"
    high, low = divmod(n, 10_000)
    if not high:
        return _below_10000(low, leading=True)
    text = _below_10000(high, leading=True) + "万"
    if low:
        text += ("零" if low < 1000 else "") + _below_10000(low, leading=False)
    return text


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@given(st.integers(min_value=0, max_value=99_999_999))
def test_chinese_numerals_round_trip(n):
    assert parse_chinese_number(to_chinese(n)) == n


@given(st.integers(min_value=0, max_value=10**9))
def test_arabic_digits_are_read_by_the_chinese_reader(n):
    assert parse_chinese_number(str(n)) == n


@given(st.integers(min_value=1, max_value=10**9), st.sampled_from(["", "件", "条", "项", "元", "万元"]),
       st.booleans(), st.booleans())
def test_cell_numbers_round_trip(n, unit, wide, commas):
    digits = f"{n:,}" if commas else str(n)
    cell = (fullwidth(digits) if wide else digits) + unit
    number = parse_cell_number(f" {cell}\u3000")
    assert number.value == n
    assert number.unit == (unit or None)


@given(st.integers(min_value=-999, max_value=999))
def test_signed_cells(n):
    assert parse_cell_number(f"{n:+d}").value == n


@given(st.sampled_from(["", "-", "—", "/", "无", "  "]))
def test_zero_markers(cell):
    assert parse_cell_number(cell).value == 0


@given(st.integers(min_value=1, max_value=99_999), st.sampled_from(["多", "余"]))
def test_approximate_cells(n, marker):
    number = parse_cell_number(f"{n}{marker}条")
    assert number.value == n and number.approximate


LABEL_TEXT = st.text(alphabet="本年新收政府信息公开申请数量（一）()予以部分 \u3000\t12３", min_size=1, max_size=30)


@given(LABEL_TEXT)
def test_normalise_label_is_idempotent_and_blank_free(label):
    once = normalise_label(label)
    assert normalise_label(once) == once
    assert not any(ch.isspace() for ch in once)


@given(LABEL_TEXT)
def test_normalise_label_ignores_width_and_spacing(label):
    spaced = " ".join(label)
    assert normalise_label(fullwidth(spaced)) == normalise_label(label)
