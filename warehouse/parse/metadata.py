"""Report metadata from content: era, report year, agency, title, publish date.

STUB — to be replaced by the full implementation.
"""
from __future__ import annotations

import re

from warehouse.parse.documents import Document


def detect_era(doc: Document) -> str | None:
    text = doc.text
    if "其他处理" in text and ("逾期不补正" in text or "本年制发件数" in text):
        return "table_2021"
    if "本年新收政府信息公开申请数量" in text or "第二十条" in text:
        return "table_2019"
    if "政府信息公开" in text:
        return "prose"
    return None


def detect_year(doc: Document) -> int | None:
    m = re.search(r"(20\d\d)\s*年[度]?\s*政府信息公开", doc.title or doc.text)
    return int(m.group(1)) if m else None


def detect_agency(doc: Document) -> str | None:
    return doc.meta.get("发布机构")


def detect_title(doc: Document) -> str | None:
    return doc.title


def detect_published_date(doc: Document) -> str | None:
    return doc.meta.get("发布日期")
