"""Analyst-facing reads of the warehouse: filtered exports and agency comparisons.

Everything reads the warehouse through `connect_read_only`: a DuckDB connection that cannot write,
cannot touch any file but the warehouse itself, cannot reach the network or load extensions, and
cannot be talked out of any of that (its configuration is locked). Files the commands write
(exports, report pages) are written from Python, outside that connection, through `write_atomically`.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from app.console import UserError, stat_mode
from warehouse.metrics import MART_COLUMNS

MART_LABELS_ZH = {k.key: k.label_zh for k in MART_COLUMNS}
COMPARE_MEASURES = ("requests_received", "granted_full", "granted_part", "grant_rate",
                    "reconsiderations_total", "lawsuits_total", "failed_any_check")

# The DuckDB settings of every analyst connection, given at connect time so no statement ever runs
# without them (DuckDB 2.0 "Securing DuckDB"): no file but the database file (no COPY TO, read_csv,
# read_text, ATTACH, EXPORT DATABASE, http://), no extension installed or loaded, no Python object
# scanned as a table, and lock_configuration so that no SET/RESET can undo any of it.
LOCKED_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "python_enable_replacements": False,
    "lock_configuration": True,
}
# Statement types `disclosure query` runs (DESCRIBE, SHOW, SUMMARIZE, VALUES and FROM-first parse as SELECT).
READ_STATEMENTS = ("SELECT", "EXPLAIN", "PRAGMA", "CALL")
DEMO_DATABASE = "data/demo/warehouse.duckdb"


@dataclass(frozen=True)
class Table:
    """A warehouse table the analyst commands read, export and chart: its name, its columns' labels
    (the xlsx header and legend), the sheet its rows go to, its order, which columns an --agency name
    and a --region name match, and the select list of its CSV (no list type there)."""
    name: str
    columns: tuple      # of warehouse.metrics.Key or warehouse.oversight.Column: key, label_zh, label_en, definition
    sheet: str
    order_by: str = "agency_id, report_year"
    name_columns: tuple[str, ...] = ("agency_name",)
    region_name_columns: tuple[str, ...] = ()
    csv_select: str = "*"

    @property
    def labels_zh(self) -> dict[str, str]:
        return {k.key: k.label_zh for k in self.columns}


@dataclass
class MartFilter:
    agencies: list[str] = field(default_factory=list)   # agency_id or part of a name
    levels: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)    # region code prefixes (33, 3301), or names (青川省)
    year_from: int | None = None
    year_to: int | None = None

    def where(self, table: Table | None = None) -> tuple[str, list]:
        """The SQL condition on `table` (default mart_agency_year) and its parameters. Agency and region
        strings are literal text: LIKE's wildcards (%, _) and the escape character in them match only
        themselves. A region of digits is a code prefix; any other region is part of a province, city
        or county name where the table has those columns (else a code prefix, matching nothing)."""
        table = table or MART
        clauses, params = [], []
        if self.agencies:
            per_agency = " or ".join(["agency_id = ?"] + [f"{c} like ? escape '\\'" for c in table.name_columns])
            clauses.append("(" + " or ".join(per_agency for _ in self.agencies) + ")")
            for a in self.agencies:
                params += [a] + [f"%{like_literal(a)}%"] * len(table.name_columns)
        if self.levels:
            clauses.append(f"level in ({', '.join('?' for _ in self.levels)})")
            params += self.levels
        if self.regions:
            alternatives = []
            for r in self.regions:
                if r.isdigit() or not table.region_name_columns:
                    alternatives.append("region_code like ? escape '\\'")
                    params.append(f"{like_literal(r)}%")
                else:
                    alternatives += [f"{c} like ? escape '\\'" for c in table.region_name_columns]
                    params += [f"%{like_literal(r)}%"] * len(table.region_name_columns)
            clauses.append("(" + " or ".join(alternatives) + ")")
        if self.year_from is not None:
            clauses.append("report_year >= ?")
            params.append(self.year_from)
        if self.year_to is not None:
            clauses.append("report_year <= ?")
            params.append(self.year_to)
        return (" where " + " and ".join(clauses)) if clauses else "", params


def like_literal(text: str) -> str:
    """`text` as a LIKE pattern (with ESCAPE '\\') that matches exactly `text`."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def missing_warehouse(db_path: str | Path) -> UserError:
    return UserError(f"no warehouse at {db_path}: build it with `disclosure build`, or run `make demo` "
                     f"(it writes {DEMO_DATABASE}) and pass --database {DEMO_DATABASE}")


def check_warehouse(db_path: str | Path) -> None:
    """UserError unless db_path is a regular file (looked at with stat only: a FIFO is never opened)."""
    mode = stat_mode(db_path, missing_warehouse(db_path), f"cannot open the warehouse {db_path}")
    if stat.S_ISDIR(mode):
        raise UserError(f"{db_path} is a directory, not a warehouse file (give the .duckdb file)")
    if not stat.S_ISREG(mode):
        raise UserError(f"{db_path} is not a regular file: refused")


def connect_read_only(db_path: str | Path):
    """The warehouse file, read-only and locked down (LOCKED_CONFIG). UserError when there is no
    usable warehouse file at db_path."""
    import duckdb

    check_warehouse(db_path)
    try:
        return duckdb.connect(str(db_path), read_only=True, config=LOCKED_CONFIG)
    except duckdb.Error as exc:     # not a DuckDB file, a newer format, locked by a writer, unreadable
        raise UserError(f"cannot open the warehouse {db_path}: {_first_line(exc)}") from None
    except UnicodeEncodeError:      # a file name of bytes that are not UTF-8
        raise UserError(f"cannot open the warehouse {db_path}: its name is not valid UTF-8") from None


def run_query(db_path: str | Path, sql: str) -> tuple[list[str], list[tuple]]:
    """One read statement of the person's on the locked connection: (columns, rows).
    Anything the engine or READ_STATEMENTS refuses, and any error in the SQL, is a UserError."""
    import duckdb

    with connect_read_only(db_path) as con:
        try:
            statements = con.extract_statements(sql)
            if len(statements) != 1:
                raise UserError(f"refused: give one statement at a time (got {len(statements)})")
            kind = {"LOAD": "INSTALL/LOAD"}.get(statements[0].type.name, statements[0].type.name)
            if statements[0].type.name not in READ_STATEMENTS:
                raise UserError(f"refused: {kind} statement; the warehouse is read-only here "
                                f"(only SELECT, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN, PRAGMA, CALL run)")
            cur = con.execute(sql)
            return [d[0] for d in cur.description or []], cur.fetchall()
        except duckdb.Error as exc:
            message = _first_line(exc)
            if isinstance(exc, duckdb.PermissionException) or "read-only" in message \
                    or "configuration has been locked" in message:
                hint = ""
                if "stg_" in sql.lower() and "file system operations are disabled" in message:
                    hint = " (stg_* views read the Parquet files: query the dim_*, fct_* and mart_* tables)"
                raise UserError(f"refused: {message}{hint}") from None
            raise UserError(message) from None


# The CSV has no list type: failed_checks joined with commas ('' for none), done in SQL (pyarrow's
# compute functions and list conversions would import pandas, seconds of a command's start).
CSV_SELECT = "* replace (coalesce(array_to_string(failed_checks, ','), '') as failed_checks)"
MART = Table("mart_agency_year", MART_COLUMNS, "机构年度对比",
             name_columns=("agency_name", "agency_name_as_printed"), csv_select=CSV_SELECT)


def select_table(con, table: Table, flt: MartFilter, columns: tuple[str, ...] | str | None = None):
    """The filtered table, ordered; columns are names or one select list."""
    where, params = flt.where(table)
    cols = columns if isinstance(columns, str) else ", ".join(columns) if columns else "*"
    return con.sql(f"select {cols} from {table.name}{where} order by {table.order_by}", params=params)


def select_mart(con, flt: MartFilter, columns: tuple[str, ...] | str | None = None):
    """The filtered mart, ordered; columns are names or one select list."""
    return select_table(con, MART, flt, columns)


def has_table(con, name: str) -> bool:
    """Is there a table or view `name` in the warehouse?"""
    return bool(con.execute("select count(*) from information_schema.tables where table_name = ?",
                            [name]).fetchall()[0][0])


def absent_table(db_path: str | Path, name: str) -> UserError:
    return UserError(f"{db_path} has no {name} (a warehouse built by an older version): "
                     f"rebuild it with `disclosure build`")


def read_table(db_path: str | Path, table: Table, flt: MartFilter, columns: tuple[str, ...] | str | None = None):
    """The filtered table as an Arrow table, read through the locked connection (closed on return).
    A warehouse without the table, or with other columns, is a UserError saying to rebuild it."""
    import duckdb

    with connect_read_only(db_path) as con:
        if not has_table(con, table.name):
            raise absent_table(db_path, table.name)
        try:
            return select_table(con, table, flt, columns).to_arrow_table()
        except (duckdb.CatalogException, duckdb.BinderException) as exc:   # a warehouse of another version
            raise UserError(f"{db_path} has no usable {table.name} ({_first_line(exc)}): "
                            f"rebuild it with `disclosure build --force`") from None


def read_mart(db_path: str | Path, flt: MartFilter, columns: tuple[str, ...] | str | None = None):
    """The filtered mart as an Arrow table, read through the locked connection (closed on return)."""
    return read_table(db_path, MART, flt, columns)


# --- files the analyst commands write ---------------------------------------------------------------

def protected_dirs(db_path: str | Path) -> list[Path]:
    """Directories no analyst output may go into: the warehouse's data directory (the folder of the
    database file: raw archive, parsed datasets, the warehouse) and the configured data directory."""
    from warehouse.storage.paths import DataPaths

    dirs = [Path(db_path).resolve().parent, DataPaths.default().root.resolve()]
    return list(dict.fromkeys(dirs))


def check_output(output: str | Path, db_path: str | Path, force: bool = False) -> Path:
    """The path an analyst command may write its output to, or a UserError saying why not:
    inside a data directory (symlinks resolved), an existing file without `force`, something that is
    not a regular file, a missing parent directory."""
    out = Path(output)
    target = out.resolve()
    for protected in protected_dirs(db_path):
        if target == protected or protected in target.parents:
            raise UserError(f"refusing to write {output}: it is inside the data directory {protected} "
                            f"(write exports somewhere else)")
    mode = stat_mode(target, None, f"cannot write {output}")
    if mode is not None:
        if stat.S_ISDIR(mode):
            raise UserError(f"{output} is a directory: give a file name")
        if not stat.S_ISREG(mode):
            raise UserError(f"{output} exists and is not a regular file: not replaced")
        if not force:
            raise UserError(f"{output} exists: not overwritten (--force replaces it)")
    if not target.parent.is_dir():
        if target.parent.exists():
            raise UserError(f"cannot write {output}: {target.parent} is not a directory")
        raise UserError(f"cannot write {output}: no directory {target.parent} (create it first)")
    return target


def write_atomically(target: Path, write: Callable[[Path], None], shown: str | Path | None = None) -> None:
    """Call write(tmp) on a new temporary file next to target, then rename it over target: a failure
    at any point leaves target as it was and no temporary file behind."""
    import tempfile

    shown = shown or target
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    except OSError as exc:
        raise UserError(f"cannot write {shown}: {exc.strerror}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)           # mkstemp's 0600 is not what a new file would get
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(f"cannot write {shown}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


EXPORT_FORMATS = ("csv", "xlsx", "parquet")


def format_of(output: str | Path) -> str:
    """The export format an output file's suffix names (.csv, .xlsx, .parquet), or a UserError."""
    fmt = Path(output).suffix.lower().lstrip(".")
    if fmt not in EXPORT_FORMATS:
        raise UserError(f"cannot tell the format of {output}: give a file name ending in .xlsx, .csv or .parquet")
    return fmt


def export_table(db_path: str | Path, table: Table, fmt: str, output: str | Path, flt: MartFilter,
                 force: bool = False, allow_empty: bool = True):
    """Write the filtered table as csv, parquet or xlsx (Chinese headers, a legend sheet with the
    English labels and definitions); returns the Arrow table written. With allow_empty False an empty
    selection is a UserError and nothing is written."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown format {fmt!r} (csv, xlsx, parquet)")
    check_warehouse(db_path)
    target = check_output(output, db_path, force)
    data = read_table(db_path, table, flt, table.csv_select if fmt == "csv" else None)
    if not allow_empty and data.num_rows == 0:
        raise UserError(f"no rows of {table.name} match the filter: nothing written")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        write_atomically(target, lambda tmp: pq.write_table(data, tmp), output)
    elif fmt == "csv":
        import pyarrow.csv as pacsv

        write_atomically(target, lambda tmp: pacsv.write_csv(data, tmp), output)
    else:
        write_atomically(target, lambda tmp: write_xlsx(data, tmp, table), output)
    return data


def export_mart(db_path: str | Path, fmt: str, output: str | Path, flt: MartFilter, force: bool = False) -> int:
    """Write the filtered mart as csv, parquet or xlsx (Chinese headers); returns the row count."""
    return export_table(db_path, MART, fmt, output, flt, force).num_rows


def write_xlsx(data, output: Path, table: Table | None = None) -> None:
    """The rows under Chinese headers on the table's sheet, then a legend sheet 字段说明: each column
    with its Chinese and English labels and its definition."""
    from openpyxl import Workbook

    table = table or MART
    labels = table.labels_zh
    wb = Workbook()
    ws = wb.active
    ws.title = table.sheet
    names = data.column_names
    ws.append([labels.get(n, n) for n in names])
    for row in data.to_pylist():
        ws.append([",".join(v) if isinstance(v, list) else v for v in (row[n] for n in names)])
    ws.freeze_panes = "A2"
    legend = wb.create_sheet("字段说明")
    legend.append(["字段", "中文名", "English", "说明"])
    for k in table.columns:
        legend.append([k.key, k.label_zh, k.label_en, k.definition])
    wb.save(output)


def compare_agencies(db_path: str | Path, flt: MartFilter) -> tuple[list[str], list[tuple]]:
    """One row per agency and year with the headline measures, for two or more agencies."""
    table = read_mart(db_path, flt, ("agency_name", "report_year", "era") + COMPARE_MEASURES)
    return table.column_names, [tuple(r.values()) for r in table.to_pylist()]
