"""The SQL model runner: builds the DuckDB warehouse from the models in `sql/`.

Each `sql/**/<model>.sql` (`sql/staging/stg_*`, `sql/marts/…`) is one SELECT; `stg_*` models
become views over the Parquet datasets, the others tables. Dependencies are the other model
names a model mentions, so the files need no ordering. Placeholders (`{{ parsed_dir }}`,
`{{ mart_measures }}`, …) are filled from the registries of the domain by `render`, so no
list of keys is copied by hand into SQL.

Beside each model, `<model>.yml` is its contract: grain, key columns (unique together),
not-null columns, accepted values (a list, or the name of a registry in REGISTRIES),
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
from typing import Callable

import yaml

from warehouse.checks import CHECK_FAMILIES
from warehouse.eras import crosswalk_rows, era_names
from warehouse.metrics import (
    APPLICANT_KEYS, ITEM_TYPE_KEYS, MART_COLUMNS, MEASURE_KEYS, PROCEEDING_KEYS, REQUEST_ROW_KEYS,
    RESULT_KEYS, TABLES, dictionary_rows,
)
from warehouse.storage.locking import writer_lock
from warehouse.storage.parsed import current_version

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"

# The value lists a contract may name instead of spelling them out, read when the contracts are loaded.
REGISTRIES: dict[str, Callable[[], tuple]] = {
    "eras": era_names,   # the registered eras
    "fact_tables": lambda: TABLES,
    "request_rows": lambda: REQUEST_ROW_KEYS,
    "applicants": lambda: APPLICANT_KEYS,
    "proceedings": lambda: PROCEEDING_KEYS,
    "results": lambda: RESULT_KEYS,
    "item_types": lambda: ITEM_TYPE_KEYS,
    "measures": lambda: MEASURE_KEYS,
    "dictionary_dimensions": lambda: tuple(dict.fromkeys(row["dimension"] for row in dictionary_rows())),
    "mart_columns": lambda: tuple(k.key for k in MART_COLUMNS),
    "check_families": lambda: tuple(CHECK_FAMILIES.values()),   # prefixes of check names
}

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)(?:\.(\w+))?\s*\}\}")


class ContractError(Exception):
    """A model without a valid contract, or a built model that breaks its contract (one line)."""


@dataclass(frozen=True)
class Contract:
    grain: str
    key: tuple[str, ...]
    not_null: tuple[str, ...]
    accepted_values: dict[str, tuple]     # column -> the values it may hold (NULL is not_null's business)
    accepted_prefixes: dict[str, tuple]   # column -> the prefixes its values may start with
    columns: tuple[str, ...]              # the built model's columns, in order


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
        models[name] = Model(name, sql, deps, load_contract(paths[name].with_suffix(".yml"), name))
    return models


def load_contract(path: Path, name: str) -> Contract:
    """The contract of model `name` from its YAML file, checked against itself."""
    if not path.exists():
        raise ContractError(f"{name}: no contract ({path} is missing)")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    fields = {f.name for f in dataclasses.fields(Contract)}
    if not isinstance(raw, dict) or set(raw) - fields or {"grain", "key", "columns"} - set(raw):
        raise ContractError(f"{name}: contract {path} needs grain, key and columns and knows only {sorted(fields)}")

    def values(spec) -> tuple:   # a list spells the values out; a name takes them from REGISTRIES
        if isinstance(spec, str) and spec in REGISTRIES:
            return tuple(REGISTRIES[spec]())
        if isinstance(spec, list):
            return tuple(spec)
        raise ContractError(f"{name}: {spec!r} in {path} is neither a list nor a registry ({', '.join(REGISTRIES)})")

    contract = Contract(
        grain=str(raw["grain"]), key=tuple(raw["key"]), not_null=tuple(raw.get("not_null") or ()),
        accepted_values={column: values(spec) for column, spec in (raw.get("accepted_values") or {}).items()},
        accepted_prefixes={column: values(spec) for column, spec in (raw.get("accepted_prefixes") or {}).items()},
        columns=tuple(raw["columns"]))
    if not contract.key:
        raise ContractError(f"{name}: contract {path} has no key")
    unlisted = {*contract.key, *contract.not_null, *contract.accepted_values, *contract.accepted_prefixes} - set(contract.columns)
    if unlisted:
        raise ContractError(f"{name}: contract {path} names columns it does not list: {sorted(unlisted)}")
    if materialization_of(name) == "table" and set(contract.key) - set(contract.not_null):
        raise ContractError(f"{name}: a table's key is never NULL: add {sorted(set(contract.key) - set(contract.not_null))} "
                            f"to not_null in {path}")
    return contract


def model_order(models: dict[str, Model]) -> list[str]:
    return list(TopologicalSorter({m.name: m.deps for m in models.values()}).static_order())


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def mart_measures() -> tuple[str, ...]:
    """The measures of mart_agency_year: the MART_COLUMNS the crosswalk feeds, in MART_COLUMNS order."""
    fed = {row.measure for row in crosswalk_rows()}
    return tuple(k.key for k in MART_COLUMNS if k.key in fed)


def render(sql: str, parsed_dir: Path) -> str:
    """Fill a model's placeholders: {{ parsed_dir }} (the current parsed version, inside a string
    literal of the SQL), {{ crosswalk_rows }} (warehouse.eras.crosswalk_rows() as VALUES rows),
    {{ mart_measures }} (mart_measures() as a list of string literals) and {{ check_family.NAME }}
    (the check name of CHECK_FAMILIES[NAME] as a string literal)."""
    def fill(match: re.Match) -> str:
        name, arg = match.groups()
        if name == "parsed_dir" and arg is None:
            return str(current_version(Path(parsed_dir).resolve())).replace("'", "''")
        if name == "crosswalk_rows" and arg is None:
            return ",\n    ".join(f"({', '.join(map(sql_string, row))})" for row in crosswalk_rows())
        if name == "mart_measures" and arg is None:
            return ", ".join(map(sql_string, mart_measures()))
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


def _column(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_contract(con, model: Model) -> None:
    """Test the built model against its contract: one cheap query per test (NULLs counted from
    the columns' validity, accepted values from their distinct values, the key from the distinct
    hashes of its columns); an offending key is looked up only when a test fails. A view's key
    is not tested: that would read its Parquet dataset once more, and the tables built from it
    test theirs. Raises ContractError naming the model, the test and a sample key."""
    contract, table = model.contract, _column(model.name)
    key = ", ".join(map(_column, contract.key))

    def broken(test: str, problem: str, sample: tuple | None) -> ContractError:
        at = ", ".join(f"{c}={v!r}" for c, v in zip(contract.key, sample)) if sample else "no sample"
        return ContractError(f"{model.name} breaks its contract: {test}: {problem}, e.g. {at}")

    def sample_where(condition: str, params: list = ()) -> tuple | None:
        return con.execute(f"select {key} from {table} where {condition} limit 1", params).fetchone()

    columns = tuple(c for (c,) in con.execute(
        "select column_name from duckdb_columns() where schema_name = 'main' and table_name = ? order by column_index",
        [model.name]).fetchall())
    if columns != contract.columns:
        missing = [c for c in contract.columns if c not in columns]
        unexpected = [c for c in columns if c not in contract.columns]
        problem = f"missing {missing}, unexpected {unexpected}" if missing or unexpected else f"in the order {list(columns)}"
        raise ContractError(f"{model.name} breaks its contract: columns: {problem}")
    if contract.not_null:
        nulls = con.execute(f"select {', '.join(f'count(*) - count({_column(c)})' for c in contract.not_null)} "
                            f"from {table}").fetchone()
        for column, n in zip(contract.not_null, nulls):
            if n:
                raise broken(f"not_null {column}", f"{n} NULL value(s)", sample_where(f"{_column(column)} is null"))
    rules = [(column, values, "values") for column, values in contract.accepted_values.items()]
    rules += [(column, prefixes, "prefixes") for column, prefixes in contract.accepted_prefixes.items()]
    if rules:
        found = con.execute(f"select {', '.join(f'list(distinct {_column(c)})' for c, _, _ in rules)} "
                            f"from {table}").fetchone()
        for (column, accepted, kind), values in zip(rules, found):
            wrong = sorted((v for v in values or () if v is not None and not (   # values: NULL when no rows
                v in accepted if kind == "values" else str(v).startswith(accepted))), key=str)
            if wrong:
                problem = f"{wrong[0]!r} is not one of" if kind == "values" else f"{wrong[0]!r} starts with none of"
                raise broken(f"accepted_{kind} {column}", f"{problem} {list(accepted)}",
                             sample_where(f"{_column(column)} = ?", [wrong[0]]))
    if model.materialization == "table":
        (repeats,) = con.execute(f"select count(*) - count(distinct hash({key})) from {table}").fetchone()
        if repeats:   # confirmed by the keys themselves: two keys may share a hash
            repeated = con.execute(f"select {key} from {table} group by all having count(*) > 1 limit 1").fetchone()
            if repeated:
                raise broken(f"key ({', '.join(contract.key)})", "a key repeats", repeated)


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
            check_contract(con, models[name])
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
