"""Text as the rules read it: simplified characters, half-width digits, no mirror noise.

Parsers match patterns on the normalised text but must report character spans
of the text they were given, so `NormText` keeps, for every normalised
character, its offset in the original.

Mirrors of reports arrive in traditional script, some with Taiwan terms (規範性檔案
for 规范性文件, 入口網站 for 门户网站): those texts are converted phrase by phrase
with OpenCC (t2s), then the regional terms below are reversed. OpenCC's own
regional reversal (tw2sp) is not used: on mainland text mirrored character by
character it rewrites words the rules need (查询->查找, 执行->运行, 文件->文档,
档案馆->文件馆). Every text is then folded character by character (zhconv's
table, cheap) to simplified and half-width.
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
# Characters a mirror could not encode come out as runs of '?'.
_QUESTION_RUN = re.compile(r"[?？]{2,}")
# A text is traditional when this share of its CJK characters has a simplified form
# (simplified texts hold a few such characters: 乾, 著, 瞭 …).
_TRADITIONAL_SHARE = 0.02
# Taiwan terms of these reports, as t2s leaves them -> the mainland term (same length
# where possible, so provenance offsets stay exact).
REGIONAL_TERMS = {
    "规范性档案": "规范性文件", "入口网站": "门户网站", "资讯公开": "信息公开", "政府资讯": "政府信息",
    "网路": "网络", "软体": "软件", "硬体": "硬件", "档案公开": "文件公开",
}
_REGIONAL = re.compile("|".join(sorted(REGIONAL_TERMS, key=len, reverse=True)))
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")  # ideographs, not CJK punctuation


@dataclass(frozen=True)
class NormText:
    text: str
    offsets: Sequence[int]   # offsets[i] = index in the original text of text[i]
    original_length: int

    def source(self, start: int, end: int) -> str:
        """`text!START-END` span, in original-text offsets, of normalised text[start:end]."""
        o_start, o_end = self.original_span(start, end)
        return f"text!{o_start}-{o_end}"

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that normalised text[start:end] came from."""
        o_start = self.offsets[start] if start < len(self.offsets) else self.original_length
        o_end = self.offsets[end - 1] + 1 if 0 < end <= len(self.offsets) else o_start
        return o_start, max(o_start, o_end)


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


def fold_characters(text: str) -> str:
    """Simplified and half-width, character by character (keeps the length)."""
    return _fold(True)(text)


@lru_cache(maxsize=1)
def _phrase_converter():
    import opencc

    t2s = opencc.OpenCC("t2s").convert
    return lambda run: _REGIONAL.sub(lambda m: REGIONAL_TERMS[m.group()], t2s(run))


def is_traditional(text: str) -> bool:
    cjk = sum(len(run) for run in _CJK_RUN.findall(text))
    if not cjk:
        return False
    changed = len(_fold(False).pattern.findall(text))
    return changed >= 3 and changed >= _TRADITIONAL_SHARE * cjk


def _is_pinyin(syllable: str) -> bool:
    # Plain latin words in brackets (URLs, abbreviations) are kept unless toned.
    return any(ch in _TONE_MARKS for ch in syllable)


def _noise_spans(text: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in _PINYIN.finditer(text) if _is_pinyin(m.group(1))]
    spans += [m.span() for m in _QUESTION_RUN.finditer(text)]
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _convert_phrases(text: str, offsets: Sequence[int]) -> tuple[str, list[int]]:
    """t2s and the regional terms on each run of CJK characters. A run whose length the
    conversion changes maps its characters onto the run's original span in proportion."""
    convert = _phrase_converter()
    parts: list[str] = []
    new_offsets: list[int] = []
    pos = 0
    for m in _CJK_RUN.finditer(text):
        start, end = m.span()
        parts.append(text[pos:start])
        new_offsets.extend(offsets[pos:start])
        converted = convert(m.group())
        parts.append(converted)
        if len(converted) == end - start:
            new_offsets.extend(offsets[start:end])
        else:
            # first and last characters keep the run's ends, the others are spread between
            last, n = max(len(converted) - 1, 1), end - start - 1
            new_offsets.extend(offsets[start + i * n // last] for i in range(len(converted)))
        pos = end
    parts.append(text[pos:])
    new_offsets.extend(offsets[pos:])
    return "".join(parts), new_offsets


def normalise_text(text: str) -> NormText:
    """Drop pinyin readings and '????' noise, convert traditional texts phrase by phrase,
    fold to simplified characters and half-width digits."""
    noise = _noise_spans(text)
    if not noise:
        kept, offsets = text, range(len(text))  # most texts: the offsets are a range, not a list
    else:
        keep = [range(a, b) for a, b in zip([0] + [e for _, e in noise], [s for s, _ in noise] + [len(text)])]
        kept = "".join(text[span.start:span.stop] for span in keep)
        offsets = tuple(chain.from_iterable(keep))
    if is_traditional(kept):
        kept, offsets = _convert_phrases(kept, offsets)
    return NormText(fold_characters(kept), offsets, len(text))
