"""Table eras: grids of tables 二, 三, 四 -> facts. STUB."""
from __future__ import annotations

from warehouse.facts import Fact


def parse_table_facts(tables, era: str) -> list[Fact]:
    return []
