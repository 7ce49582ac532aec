"""Era P: figures in sentences, and the attached statistics table. STUB."""
from __future__ import annotations

from warehouse.facts import Fact


def parse_prose_facts(text: str, era: str, tables=None) -> list[Fact]:
    return []
