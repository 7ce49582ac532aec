"""Text as the rules read it: simplified characters, half-width digits, no pinyin noise.

Parsers match patterns on the normalised text but must report character spans
of the text they were given, so `NormText` keeps, for every normalised
character, its offset in the original.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

import zhconv

from warehouse.parse.numbers import HALFWIDTH, CharFold, to_halfwidth

# Mirrors inject readings after characters: 國(guó), 開(kāi). Only tone-marked or
# plain lower-case latin syllables inside brackets count, so '(以下简称《条例》)' stays.
_PINYIN = re.compile(r"[(（]([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ]{1,7})[)）]")
_TONE_MARKS = set("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ")


@dataclass(frozen=True)
class NormText:
    text: str
    offsets: Sequence[int]   # offsets[i] = index in the original text of text[i]
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


@lru_cache(maxsize=None)
def _fold(halfwidth: bool) -> CharFold:
    """The simplification fold, followed by to_halfwidth when `halfwidth` (both fold
    character by character, so one pass does both). Built on first use: it loads
    zhconv's table, which changes a lone character only when it is one of its keys."""
    from zhconv.zhconv import getdict

    candidates = {word for word in getdict("zh-cn") if len(word) == 1}
    if halfwidth:
        candidates |= HALFWIDTH.changes.keys()
    fold = (lambda ch: to_halfwidth(_simplified_or_same(ch))) if halfwidth else _simplified_or_same
    return CharFold({ch: folded for ch in candidates if (folded := fold(ch)) != ch})


def to_simplified(text: str) -> str:
    """Traditional to simplified, character by character (keeps the length)."""
    return _fold(False)(text)


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
    # nothing dropped (most texts): the offsets are a range, not thousands of ints
    offsets = keep[0] if len(keep) == 1 else tuple(chain.from_iterable(keep))
    return NormText(_fold(True)(kept), offsets, len(text))
