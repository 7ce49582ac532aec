"""Analyst-facing reads of the warehouse: filtered exports and agency comparisons.

Everything reads `mart_agency_year` through a read-only connection.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from warehouse.metrics import MART_COLUMNS

MART_LABELS_ZH = {k.key: k.label_zh for k in MART_COLUMNS}
COMPARE_MEASURES = ("requests_received", "granted_full", "granted_part", "grant_rate",
                    "reconsiderations_total", "lawsuits_total", "failed_any_check")


@dataclass
class MartFilter:
    agencies: list[str] = field(default_factory=list)   # agency_id or part of a name
    levels: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)    # region code prefixes, e.g. 33 or 3301
    year_from: int | None = None
    year_to: int | None = None

    def where(self) -> tuple[str, list]:
        clauses, params = [], []
        if self.agencies:
            clauses.append("(" + " or ".join(
                "agency_id = ? or agency_name like ? or agency_name_as_printed like ?" for _ in self.agencies) + ")")
            for a in self.agencies:
                params += [a, f"%{a}%", f"%{a}%"]
        if self.levels:
            clauses.append(f"level in ({', '.join('?' for _ in self.levels)})")
            params += self.levels
        if self.regions:
            clauses.append("(" + " or ".join("region_code like ?" for _ in self.regions) + ")")
            params += [f"{r}%" for r in self.regions]
        if self.year_from is not None:
            clauses.append("report_year >= ?")
            params.append(self.year_from)
        if self.year_to is not None:
            clauses.append("report_year <= ?")
            params.append(self.year_to)
        return (" where " + " and ".join(clauses)) if clauses else "", params


def connect_read_only(db_path: str | Path):
    import duckdb

    if not Path(db_path).exists():
        raise FileNotFoundError(f"no warehouse at {db_path}: run `make demo` or `disclosure build` first")
    return duckdb.connect(str(db_path), read_only=True)


def select_mart(con, flt: MartFilter, columns: tuple[str, ...] | None = None):
    where, params = flt.where()
    cols = ", ".join(columns) if columns else "*"
    return con.sql(f"select {cols} from mart_agency_year{where} order by agency_id, report_year", params=params)


def export_mart(db_path: str | Path, fmt: str, output: str | Path, flt: MartFilter) -> int:
    """Write the filtered mart as csv, parquet or xlsx (Chinese headers); returns the row count."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with connect_read_only(db_path) as con:
        table = select_mart(con, flt).to_arrow_table()
    if fmt == "parquet":
        import pyarrow.parquet as pq
        pq.write_table(table, output)
    elif fmt == "csv":
        import pyarrow.csv as pacsv
        flat = table.set_column(table.schema.get_field_index("failed_checks"), "failed_checks",
                                [[",".join(v or []) for v in table.column("failed_checks").to_pylist()]])
        pacsv.write_csv(flat, output)
    elif fmt == "xlsx":
        write_xlsx(table, output)
    else:
        raise ValueError(f"unknown format {fmt!r} (csv, xlsx, parquet)")
    return table.num_rows


def write_xlsx(table, output: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "机构年度对比"
    names = table.column_names
    ws.append([MART_LABELS_ZH.get(n, n) for n in names])
    for row in table.to_pylist():
        ws.append([",".join(v) if isinstance(v, list) else v for v in (row[n] for n in names)])
    ws.freeze_panes = "A2"
    legend = wb.create_sheet("字段说明")
    legend.append(["字段", "中文名", "English", "说明"])
    for k in MART_COLUMNS:
        legend.append([k.key, k.label_zh, k.label_en, k.definition])
    wb.save(output)


def compare_agencies(db_path: str | Path, flt: MartFilter) -> tuple[list[str], list[tuple]]:
    """One row per agency and year with the headline measures, for two or more agencies."""
    with connect_read_only(db_path) as con:
        rel = select_mart(con, flt, ("agency_name", "report_year", "era") + COMPARE_MEASURES)
        return rel.columns, rel.fetchall()
