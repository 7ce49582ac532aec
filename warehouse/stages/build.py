"""The SQL model runner: builds the DuckDB warehouse from the models in `sql/`.

Each `sql/**/<model>.sql` (`sql/staging/stg_*`, `sql/marts/…`) is one SELECT; `stg_*` models
become views over the Parquet datasets, the others tables. Dependencies are the other model
names a model mentions, so the files need no ordering. Placeholders (`{{ parsed_dir }}`,
`{{ mart_measures }}`, …) are filled from the registries of the domain by `render`, so no
list of keys is copied by hand into SQL.

Beside each model, `<model>.yml` is its contract: grain, key columns (unique together),
not-null columns, accepted values (a list, or the name of a registry: warehouse.stages.contracts),
accepted prefixes and the column list. The contracts are tested on the new file after every
model is built; a failure stops the build before the swap (ContractError, one line).

The database is built as a new file and moved into place atomically: an analyst holding the
old file open read-only is never blocked and never sees half a build. A build holds the writer lock
(warehouse.storage.locking) of the data directory it writes into, and of the one it reads the parsed
version from when that is another: no parse can swap or remove the version under it.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import time
from contextlib import ExitStack
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

from warehouse.checks import CHECK_FAMILIES
from warehouse.deadlines import deadline_rows
from warehouse.eras import crosswalk_rows, eras
from warehouse.metrics import MART_COLUMNS
from warehouse.stages.contracts import Contract, ContractError, check_contract, load_contract
from warehouse.storage.locking import writer_lock
from warehouse.storage.parsed import current_version

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)(?:\.(\w+))?\s*\}\}")


def materialization_of(model: str) -> str:
    return "view" if model.startswith("stg_") else "table"


@dataclass(frozen=True)
class Model:
    name: str
    sql: str
    deps: tuple[str, ...]
    contract: Contract

    @property
    def materialization(self) -> str:
        return materialization_of(self.name)

    @property
    def description(self) -> str:
        """The model's first comment line."""
        return self.sql.split("\n", 1)[0].lstrip("- ")


def load_models(sql_dir: Path = SQL_DIR) -> dict[str, Model]:
    """Every `<model>.sql` under sql_dir with its contract `<model>.yml` beside it."""
    paths: dict[str, Path] = {}
    for path in sorted(sql_dir.rglob("*.sql")):
        if path.stem in paths:
            raise ContractError(f"{path.stem}: two models of that name ({paths[path.stem]}, {path})")
        paths[path.stem] = path
    for orphan in sorted(sql_dir.rglob("*.yml")):
        if orphan.stem not in paths or paths[orphan.stem].with_suffix(".yml") != orphan:
            raise ContractError(f"{orphan.stem}: contract {orphan} has no model beside it")
    texts = {name: path.read_text(encoding="utf-8") for name, path in paths.items()}
    models = {}
    for name, sql in texts.items():
        try:
            render(sql, sql_dir)   # any folder will do: a misspelt placeholder fails here, not in a build
        except ValueError as exc:
            raise ContractError(f"{name}: {exc}") from None
        body = re.sub(r"--[^\n]*", "", sql)  # names in comments are not dependencies
        deps = tuple(other for other in texts if other != name and re.search(rf"\b{other}\b", body))
        models[name] = Model(name, sql, deps, load_contract(paths[name].with_suffix(".yml"), name,
                                                           materialization_of(name) == "view"))
    return models


def model_order(models: dict[str, Model]) -> list[str]:
    return list(TopologicalSorter({m.name: m.deps for m in models.values()}).static_order())


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def mart_measures() -> tuple[str, ...]:
    """The measures of mart_agency_year: the MART_COLUMNS the crosswalk feeds, in MART_COLUMNS order."""
    fed = {row.measure for row in crosswalk_rows()}
    return tuple(k.key for k in MART_COLUMNS if k.key in fed)


def _values(rows) -> str:
    """Rows as the rows of a SQL VALUES list (strings quoted, numbers as they are)."""
    return ",\n    ".join("(" + ", ".join(sql_string(v) if isinstance(v, str) else str(int(v)) for v in row) + ")"
                          for row in rows)


def render(sql: str, parsed_dir: Path) -> str:
    """Fill a model's placeholders: {{ parsed_dir }} (the current parsed version, inside a string
    literal of the SQL), {{ crosswalk_rows }} (warehouse.eras.crosswalk_rows() as VALUES rows),
    {{ mart_measures }} (mart_measures() as a list of string literals), {{ mart_measure_columns }}
    (the same as quoted column names), {{ deadline_rules }} (warehouse.deadlines.deadline_rows() as
    VALUES rows: regulation, first_year, last_year, bodies, month, day), {{ era_first_years }}
    (every registered era and its first report year as VALUES rows) and {{ check_family.NAME }}
    (the check name of CHECK_FAMILIES[NAME] as a string literal)."""
    def fill(match: re.Match) -> str:
        name, arg = match.groups()
        if name == "parsed_dir" and arg is None:
            return str(current_version(Path(parsed_dir).resolve())).replace("'", "''")
        if name == "crosswalk_rows" and arg is None:
            return ",\n    ".join(f"({', '.join(map(sql_string, row))})" for row in crosswalk_rows())
        if name == "mart_measures" and arg is None:
            return ", ".join(map(sql_string, mart_measures()))
        if name == "mart_measure_columns" and arg is None:
            return ", ".join('"' + m.replace('"', '""') + '"' for m in mart_measures())
        if name == "deadline_rules" and arg is None:
            return _values(deadline_rows())
        if name == "era_first_years" and arg is None:
            return _values((era.name, era.first_year) for era in eras())
        if name == "check_family" and arg in CHECK_FAMILIES:
            return sql_string(CHECK_FAMILIES[arg])
        raise ValueError(f"unknown placeholder {match.group(0)}")

    return _PLACEHOLDER.sub(fill, sql)


def remove_stale_builds(db_path: Path) -> None:
    """Delete the half-built files of builds whose process is gone (killed mid-build)."""
    for leftover in db_path.parent.glob(f".{db_path.name}.building-*"):
        pid = leftover.name.rsplit("-", 1)[-1].split(".")[0]
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            leftover.unlink(missing_ok=True)
        except (ValueError, PermissionError):
            continue


def build_inputs(parsed_dir: Path, models: dict[str, Model]) -> str:
    """What a build depends on: the current parsed version, the rendered model SQL (hence the
    registries it is filled from) and the contracts (with the registry values they name)."""
    digest = hashlib.sha256(str(current_version(parsed_dir).resolve()).encode())
    for name in sorted(models):
        contract = json.dumps(dataclasses.asdict(models[name].contract), sort_keys=True, default=list)
        digest.update(b"\0".join([name.encode(), render(models[name].sql, parsed_dir).encode(), contract.encode()]))
    return digest.hexdigest()


def previous_build(db_path: Path) -> dict:
    """The build_info row of an existing warehouse file ({} when there is none)."""
    import duckdb

    if not db_path.exists():
        return {}
    try:
        with duckdb.connect(str(db_path), read_only=True) as con:
            inputs, stats = con.execute("select inputs, stats from build_info").fetchone()
    except duckdb.Error:
        return {}
    return {"inputs": inputs, "stats": json.loads(stats)}


def build_warehouse(parsed_dir: str | Path, db_path: str | Path, sql_dir: Path = SQL_DIR,
                    progress=None, force: bool = False, lock_wait: float | None = None) -> dict[str, dict]:
    """Build every model into a new DuckDB file at db_path, unless the file already holds a build
    of the same parsed version and models (then nothing is done; `force` rebuilds anyway).

    Returns {model: {"rows": n, "seconds": t, "materialization": …, "unchanged": bool}};
    `progress(model, done, total)` is called after each model. The data directories of
    db_path and parsed_dir are locked for the build: a second writer waits up to `lock_wait`
    seconds, then gets warehouse.storage.locking.WriterBusy.
    """
    roots = sorted({Path(db_path).resolve().parent, Path(parsed_dir).resolve().parent})
    with ExitStack() as locks:
        for root in roots:   # always in the same order: two builds never hold one each
            locks.enter_context(writer_lock(root, "build", wait=lock_wait))
        return _build(parsed_dir, db_path, sql_dir, progress, force)


def _build(parsed_dir: str | Path, db_path: str | Path, sql_dir: Path, progress, force: bool) -> dict[str, dict]:
    import duckdb

    models = load_models(sql_dir)
    order = model_order(models)
    db_path = Path(db_path)
    inputs = build_inputs(Path(parsed_dir), models)
    remove_stale_builds(db_path)
    previous = previous_build(db_path)
    if not force and previous.get("inputs") == inputs:
        return {name: {**s, "unchanged": True} for name, s in previous["stats"].items()}
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(f".{db_path.name}.building-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    stats: dict[str, dict] = {}
    con = duckdb.connect(str(tmp))
    try:
        for name in order:
            model = models[name]
            start = time.perf_counter()
            con.execute(f"create or replace {model.materialization} {name} as\n{render(model.sql, Path(parsed_dir))}")
            rows = con.execute(f"select count(*) from {name}").fetchone()[0]
            stats[name] = {"rows": rows, "seconds": round(time.perf_counter() - start, 3),
                           "materialization": model.materialization, "unchanged": False}
            if progress:
                progress(name, len(stats), len(order))
        for name in order:   # before the swap: a model breaking its contract leaves the old file in place
            model = models[name]
            check_contract(con, name, model.contract, model.materialization == "view")
        # What this file was built from, so an unchanged rebuild can be skipped.
        con.execute("create table build_info as select ? as inputs, ? as stats, current_timestamp as built_at",
                    [inputs, json.dumps(stats)])
        con.execute("checkpoint")
    except Exception:
        con.close()
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, db_path)
    return stats
