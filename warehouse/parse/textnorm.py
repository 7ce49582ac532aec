"""Text as the rules read it: simplified characters, half-width digits, no pinyin noise.

Parsers match patterns on the normalised text but must report character spans
of the text they were given, so `NormText` keeps, for every normalised
character, its offset in the original.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

import zhconv

from warehouse.parse.numbers import CharTable, to_halfwidth

# Mirrors inject readings after characters: 國(guó), 開(kāi). Only tone-marked or
# plain lower-case latin syllables inside brackets count, so '(以下简称《条例》)' stays.
_PINYIN = re.compile(r"[(（]([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ]{1,7})[)）]")
_TONE_MARKS = set("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ")


@dataclass(frozen=True)
class NormText:
    text: str
    offsets: tuple[int, ...]   # offsets[i] = index in the original text of text[i]
    original_length: int

    def source(self, start: int, end: int) -> str:
        """`text!START-END` span, in original-text offsets, of normalised text[start:end]."""
        o_start = self.offsets[start] if start < len(self.offsets) else self.original_length
        o_end = self.offsets[end - 1] + 1 if 0 < end <= len(self.offsets) else o_start
        return f"text!{o_start}-{o_end}"


@lru_cache(maxsize=8192)
def _simplified_char(ch: str) -> str:
    out = zhconv.convert(ch, "zh-cn")
    return out if len(out) == 1 else ch


def _simplified_or_same(ch: str) -> str:
    return _simplified_char(ch) if ord(ch) > 0x2E80 else ch


_SIMPLIFIED = CharTable(_simplified_or_same)
# to_halfwidth(to_simplified(text)) in one pass: both fold character by character.
_SIMPLIFIED_HALFWIDTH = CharTable(lambda ch: to_halfwidth(_simplified_or_same(ch)))


def to_simplified(text: str) -> str:
    """Traditional to simplified, character by character (keeps the length)."""
    return text.translate(_SIMPLIFIED)


def _is_pinyin(syllable: str) -> bool:
    # Plain latin words in brackets (URLs, abbreviations) are kept unless toned.
    return any(ch in _TONE_MARKS for ch in syllable)


def normalise_text(text: str) -> NormText:
    """Drop pinyin readings, fold to simplified characters and half-width digits."""
    keep: list[range] = []   # the spans of `text` kept, in order
    pos = 0
    for m in _PINYIN.finditer(text):
        if _is_pinyin(m.group(1)):
            keep.append(range(pos, m.start()))
            pos = m.end()
    keep.append(range(pos, len(text)))
    kept = "".join(text[span.start:span.stop] for span in keep)
    return NormText(kept.translate(_SIMPLIFIED_HALFWIDTH), tuple(chain.from_iterable(keep)), len(text))
