"""Table eras: tables flattened into text -> facts. STUB."""
from __future__ import annotations

from warehouse.facts import Fact


def parse_flat_tables(text: str, era: str) -> list[Fact]:
    return []
