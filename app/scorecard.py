"""`disclosure scorecard`: the warehouse's `mart_scorecard` (one row per agency and report year the
agency was expected to report), filtered and written as xlsx, csv or parquet, with a one-line summary.

The filters, the read-only connection, the output checks and the writers are the mart export's
(`app.analyst`: `MartFilter`, `read_table`, `export_table`); the columns' labels are the data
dictionary's (`warehouse.oversight.MODEL_COLUMNS`), the levels and timeliness statuses the model's
contract's (`sql/marts/mart_scorecard.yml`). This module only puts them together and summarises.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from app.analyst import MartFilter, Table, export_table, format_of
from app.console import UserError
from warehouse.oversight import MODEL_COLUMNS

SCORECARD = Table("mart_scorecard", MODEL_COLUMNS["mart_scorecard"], "评分表", order_by="agency_id, report_year",
                  region_name_columns=("province", "city", "county"))


@lru_cache(maxsize=1)
def _contract():
    from warehouse.stages.contracts import load_contract
    from warehouse.storage.paths import PROJECT_ROOT

    return load_contract(PROJECT_ROOT / "sql" / "marts" / f"{SCORECARD.name}.yml", SCORECARD.name, is_view=False)


def accepted_values(column: str) -> tuple[str, ...]:
    """The values the scorecard's contract accepts in `column` (level, timeliness_status)."""
    return tuple(_contract().accepted_values[column])


@dataclass(frozen=True)
class Summary:
    rows: int
    agencies: int
    years: tuple[int, ...]
    mean_score: float | None
    statuses: dict[str, int]

    def line(self, output: str | Path) -> str:
        years = (f"{self.years[0]}" if len(self.years) == 1 else f"{self.years[0]}-{self.years[-1]}") \
            if self.years else "none"
        mean = "n/a" if self.mean_score is None else f"{self.mean_score:.1f}"
        statuses = ", ".join(f"{s} {n}" for s, n in self.statuses.items())
        agencies, years_count = _count(self.agencies, "agency", "agencies"), _count(len(self.years), "year", "years")
        return (f"{self.rows} rows of mart_scorecard written to {output}: {agencies}, {years_count} ({years}), "
                f"mean score {mean}; {statuses}")


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def summarise(data) -> Summary:
    """Rows, agencies, years, mean score and the count per timeliness status of an Arrow table of
    mart_scorecard rows (in the contract's order of the statuses; any other value after them)."""
    agencies = data.column("agency_id").to_pylist()
    years = data.column("report_year").to_pylist()
    scores = [s for s in data.column("score").to_pylist() if s is not None]
    statuses = dict.fromkeys(accepted_values("timeliness_status"), 0)
    for status in data.column("timeliness_status").to_pylist():
        statuses[status] = statuses.get(status, 0) + 1
    return Summary(rows=data.num_rows, agencies=len(set(agencies)),
                   years=tuple(sorted({y for y in years if y is not None})),
                   mean_score=sum(scores) / len(scores) if scores else None, statuses=statuses)


def parse_years(text: str) -> tuple[int, int]:
    """'2019-2023' -> (2019, 2023); '2021' -> (2021, 2021). UserError for anything else."""
    parts = [p.strip() for p in text.split("-")]
    if len(parts) in (1, 2) and all(p.isascii() and p.isdigit() and len(p) == 4 for p in parts):
        first, last = int(parts[0]), int(parts[-1])
        if first <= last:
            return first, last
    raise UserError(f"--years {text!r}: give a range of report years such as 2019-2023")


def export_scorecard(db_path: str | Path, output: str | Path, flt: MartFilter, force: bool = False) -> Summary:
    """Write the filtered scorecard to output (format from its suffix); returns its summary.
    The warehouse is only read; nothing is written when no row matches."""
    fmt = format_of(output)
    levels = accepted_values("level")
    unknown = [v for v in flt.levels if v not in levels]
    if unknown:
        raise UserError(f"unknown level {unknown[0]!r}: give one of {', '.join(levels)}")
    data = export_table(db_path, SCORECARD, fmt, output, flt, force=force, allow_empty=False)
    return summarise(data)
