"""Model contracts: beside each `sql/**/<model>.sql`, `<model>.yml` states the model's grain, key
columns (unique together), not-null columns, accepted values (a list, or the name of a registry of
the domain, see `registries`), accepted prefixes and the column list. The build loads them with the
models and tests them on the new DuckDB file before the swap (warehouse.stages.build).

Light to import (the CLI catches ContractError at start-up): YAML and the registries are read
only when contracts are loaded.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path


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


def registries() -> dict[str, tuple]:
    """The value lists a contract may name instead of spelling them out, read when contracts load."""
    from warehouse.checks import CHECK_FAMILIES
    from warehouse.eras import era_names
    from warehouse.metrics import (
        APPLICANT_KEYS, ITEM_TYPE_KEYS, MART_COLUMNS, MEASURE_KEYS, PROCEEDING_KEYS, REQUEST_ROW_KEYS,
        RESULT_KEYS, TABLES, dictionary_rows,
    )

    return {
        "eras": era_names(),   # the registered eras
        "fact_tables": TABLES,
        "request_rows": REQUEST_ROW_KEYS,
        "applicants": APPLICANT_KEYS,
        "proceedings": PROCEEDING_KEYS,
        "results": RESULT_KEYS,
        "item_types": ITEM_TYPE_KEYS,
        "measures": MEASURE_KEYS,
        "dictionary_dimensions": tuple(dict.fromkeys(row["dimension"] for row in dictionary_rows())),
        "mart_columns": tuple(k.key for k in MART_COLUMNS),
        "check_families": tuple(CHECK_FAMILIES.values()),   # prefixes of check names
    }

def load_contract(path: Path, name: str, is_view: bool) -> Contract:
    """The contract of model `name` from its YAML file, checked against itself."""
    if not path.exists():
        raise ContractError(f"{name}: no contract ({path} is missing)")
    import yaml   # only when contracts are loaded: the CLI imports ContractError at start-up

    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    fields = {f.name for f in dataclasses.fields(Contract)}
    if not isinstance(raw, dict) or set(raw) - fields or {"grain", "key", "columns"} - set(raw):
        raise ContractError(f"{name}: contract {path} needs grain, key and columns and knows only {sorted(fields)}")

    named = registries()

    def values(spec) -> tuple:   # a list spells the values out; a name takes them from registries()
        if isinstance(spec, str) and spec in named:
            return tuple(named[spec])
        if isinstance(spec, list):
            return tuple(spec)
        raise ContractError(f"{name}: {spec!r} in {path} is neither a list nor a registry ({', '.join(named)})")

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
    if not is_view and set(contract.key) - set(contract.not_null):
        raise ContractError(f"{name}: a table's key is never NULL: add {sorted(set(contract.key) - set(contract.not_null))} "
                            f"to not_null in {path}")
    return contract


def _column(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_contract(con, name: str, contract: Contract, is_view: bool) -> None:
    """Test the built model against its contract: one cheap query per test (NULLs counted from
    the columns' validity, accepted values from their distinct values, the key from the distinct
    hashes of its columns); an offending key is looked up only when a test fails. A view's key
    is not tested: that would read its Parquet dataset once more, and the tables built from it
    test theirs. Raises ContractError naming the model, the test and a sample key."""
    table = _column(name)
    key = ", ".join(map(_column, contract.key))

    def broken(test: str, problem: str, sample: tuple | None) -> ContractError:
        at = ", ".join(f"{c}={v!r}" for c, v in zip(contract.key, sample)) if sample else "no sample"
        return ContractError(f"{name} breaks its contract: {test}: {problem}, e.g. {at}")

    def sample_where(condition: str, params: list = ()) -> tuple | None:
        return con.execute(f"select {key} from {table} where {condition} limit 1", params).fetchone()

    columns = tuple(c for (c,) in con.execute(
        "select column_name from duckdb_columns() where schema_name = 'main' and table_name = ? order by column_index",
        [name]).fetchall())
    if columns != contract.columns:
        missing = [c for c in contract.columns if c not in columns]
        unexpected = [c for c in columns if c not in contract.columns]
        problem = f"missing {missing}, unexpected {unexpected}" if missing or unexpected else f"in the order {list(columns)}"
        raise ContractError(f"{name} breaks its contract: columns: {problem}")
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
    if not is_view:
        (repeats,) = con.execute(f"select count(*) - count(distinct hash({key})) from {table}").fetchone()
        if repeats:   # confirmed by the keys themselves: two keys may share a hash
            repeated = con.execute(f"select {key} from {table} group by all having count(*) > 1 limit 1").fetchone()
            if repeated:
                raise broken(f"key ({', '.join(contract.key)})", "a key repeats", repeated)
