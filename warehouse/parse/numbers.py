"""Normalisers for numbers and labels as printed in reports.

`parse_cell_number` reads a table cell; `parse_chinese_number` reads figures in
prose (Arabic or Chinese numerals); `normalise_label` turns a printed label into
a comparable form (no spaces, half-width, simplified punctuation).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Cells that state zero (REPORT_FORMATS.md: "Missing is not zero" — a blank cell
# inside a stated table is the report's zero).
ZERO_MARKERS = {"", "-", "—", "－", "–", "/", "／", "无", "0", "〇", "零", "——", "--", "\\"}

_CN_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3,
              "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8,
              "捌": 8, "九": 9, "玖": 9}
_CN_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_CN_BIG = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
CN_NUMERAL_CHARS = "".join(_CN_DIGITS) + "".join(_CN_UNITS) + "".join(_CN_BIG)

_NUMBER_RE = re.compile(r"[+\-－−]?\d+(?:,\d{3})*(?:\.\d+)?")
_APPROX_RE = re.compile(r"(多|余|约|近|左右|以上)")
_UNIT_RE = re.compile(r"(万元|元|亿元|件|条|项|个|次|人次)")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class CellNumber:
    value: float | int
    unit: str | None = None
    approximate: bool = False


class CharFold:
    """A character-by-character fold, given as the characters it changes and what each
    becomes. A regex finds those characters and only they are replaced: str.translate
    looks up every character of the text (tens of ns each), while a report's text has
    thousands of characters of which a few percent change."""

    def __init__(self, changes: dict[str, str]) -> None:
        self.changes = changes
        bmp = "".join(re.escape(ch) for ch in sorted(changes) if ch <= "\uffff")
        # The regex engine tests a class's characters above U+FFFF one by one, at every
        # position: those (rare in text) are all matched and looked up in `changes`.
        astral = "|[\U00010000-\U0010ffff]" if any(ch > "\uffff" for ch in changes) else ""
        self.pattern = re.compile(f"([{bmp}]{astral})")

    def __call__(self, text: str) -> str:
        parts = self.pattern.split(text)  # text, matched character, text, matched character, …
        if len(parts) == 1:
            return text
        changes = self.changes
        parts[1::2] = [changes.get(ch, ch) for ch in parts[1::2]]  # cheaper than a callback per match
        return "".join(parts)


# Full-width ASCII ! .. ~ (shifted by 0xFEE0), the ideographic space and &nbsp;.
HALFWIDTH = CharFold({chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
                     | {"\u3000": " ", "\xa0": " "})


def to_halfwidth(text: str) -> str:
    """Full-width digits, letters and ASCII punctuation to half-width (NFKC would also fold CJK brackets)."""
    return HALFWIDTH(text)


def _as_number(text: str) -> float | int:
    text = text.replace(",", "").replace("－", "-").replace("−", "-").lstrip("+")
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


@lru_cache(maxsize=8192)  # cells repeat ('0', '—', small counts); CellNumber is immutable
def parse_cell_number(cell: str | None, *, blank_is_zero: bool = True) -> CellNumber | None:
    """The number a table cell states, or None when the cell holds no number.

    Handles blanks and dashes (zero), full-width digits, thousands separators,
    signs (`+19`), units and notes after the number (`251000元`, `22（其中修订16件）`,
    `755多条`). The first number in the cell is the value; notes in brackets are ignored.
    """
    if cell is None:
        return CellNumber(0) if blank_is_zero else None
    text = to_halfwidth(cell).strip()
    text = _SPACES.sub("", text)
    if text in ZERO_MARKERS:
        return CellNumber(0) if blank_is_zero or text else None
    m = _NUMBER_RE.search(text)
    if not m:
        value = parse_chinese_number(text)
        return CellNumber(value) if value is not None else None
    # Ignore numbers that only appear inside a bracketed note: "（其中修订16件）" alone is not a value.
    before = text[: m.start()]
    if "(" in before or "（" in before:
        return None
    after = text[m.end():]
    unit_match = _UNIT_RE.match(after)
    return CellNumber(_as_number(m.group()), unit_match.group(1) if unit_match else None,
                      bool(_APPROX_RE.match(after)))


def parse_chinese_number(text: str) -> int | None:
    """Chinese numerals to int: 十二 → 12, 一百零五 → 105, 两千三百 → 2300, 3万 → 30000."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    total, section, number = 0, 0, 0
    seen = False
    for ch in text:
        if ch.isdigit():
            number = number * 10 + int(ch)
            seen = True
        elif ch in _CN_DIGITS:
            number = _CN_DIGITS[ch]
            seen = True
        elif ch in _CN_UNITS:
            section += (number or 1) * _CN_UNITS[ch]
            number = 0
            seen = True
        elif ch in _CN_BIG:
            total += (section + number) * _CN_BIG[ch]
            section, number = 0, 0
            seen = True
        else:
            return None
    return total + section + number if seen else None


def normalise_label(label: str) -> str:
    """A printed label in comparable form: half-width, no white space, NFKC-folded brackets."""
    text = unicodedata.normalize("NFKC", to_halfwidth(label or ""))
    # white space (str.split's is the regex \s), zero-width spaces and BOMs dropped:
    # faster than a regex on a whole document's text
    return "".join(text.split()).replace("\u200b", "").replace("\ufeff", "")
