"""The era registry: what an era declares (`Era`), `register`, and the questions the parser,
the checks and the build ask of the registered eras (see the package docstring)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

TABLES = "tables"   # layout: tables 二/三/四, then the tables flattened into text, then sentences
PROSE = "prose"     # layout: sentences and the 2008 statistics table


class CrosswalkRow(NamedTuple):
    """One stated figure of an era feeding one comparable measure (a mart column): the measure is
    the sum of the figures mapped to it that the report states, NULL when it states none."""
    measure: str
    era: str
    fact_table: str
    dim_1: str
    dim_2: str


@dataclass(frozen=True)
class Era:
    name: str
    label: str
    layout: str                                 # TABLES or PROSE
    first_year: int                             # the first report year written in this layout
    markers: tuple[str, ...] = ()               # words only this layout prints (white space removed)
    notices: tuple[re.Pattern, ...] = ()        # the format notice that introduced it
    other_handling_rows: tuple[str, ...] = ()   # table 三 rows of 其他处理 (checks; a bare 其他 row)
    # (row key, pattern on the label's wording): table 三 rows this layout words its own way,
    # tried before the rules every table layout shares (warehouse.parse.tables.REQUEST_ROW_RULES)
    request_row_labels: tuple[tuple[str, str], ...] = ()
    amount_unit: str | None = None              # unit of a table-二 amount printed without one
    check_families: tuple[str, ...] = ()        # keys of warehouse.checks.CHECK_FAMILIES evaluated per report
    crosswalk: tuple[tuple[str, str, str, str], ...] = ()   # (measure, fact_table, dim_1, dim_2)

    def __post_init__(self):
        if self.layout not in (TABLES, PROSE):
            raise ValueError(f"era {self.name}: layout {self.layout!r} is not {TABLES!r} or {PROSE!r}")

    @property
    def has_tables(self) -> bool:
        return self.layout == TABLES

    def recognises(self, compact: str) -> bool:
        """Whether a report's text (white space removed) prints this layout's own words."""
        return any(m in compact for m in self.markers) or any(n.search(compact) for n in self.notices)


_REGISTRY: dict[str, Era] = {}


def register(era: Era) -> Era:
    if era.name in _REGISTRY:
        raise ValueError(f"era {era.name!r} registered twice")
    _REGISTRY[era.name] = era
    return era


def unregister(name: str) -> None:
    """Remove an era (tests that register a toy era put the registry back)."""
    _REGISTRY.pop(name, None)


def eras() -> tuple[Era, ...]:
    """Every registered era, oldest layout first."""
    return tuple(sorted(_REGISTRY.values(), key=lambda e: e.first_year))


def era_names() -> tuple[str, ...]:
    return tuple(e.name for e in eras())


def table_era_names() -> tuple[str, ...]:
    return tuple(e.name for e in eras() if e.has_tables)


def era_named(name: str) -> Era:
    return _REGISTRY[name]


def era_by_words(compact: str) -> Era | None:
    """The newest era whose own words or notice the text prints."""
    return next((e for e in reversed(eras()) if e.recognises(compact)), None)


def table_era_for_year(year: int | None) -> Era:
    """The table layout of a report year (the newest one when the year is unknown)."""
    tables = [e for e in eras() if e.has_tables]
    if year is None:
        return tables[-1]
    return next((e for e in reversed(tables) if e.first_year <= year), tables[0])


def first_table_year() -> int:
    """The first report year written in a table layout."""
    return min(e.first_year for e in eras() if e.has_tables)


def prose_era() -> Era:
    """The era of a disclosure report that prints no table layout's words."""
    return next(e for e in eras() if not e.has_tables)


def crosswalk_rows() -> list[CrosswalkRow]:
    """The crosswalk of mart_agency_year: every era's rows."""
    return [CrosswalkRow(measure, era.name, table, dim_1, dim_2)
            for era in eras() for measure, table, dim_1, dim_2 in era.crosswalk]

