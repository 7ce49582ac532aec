"""The SQL model runner: builds the DuckDB warehouse from the models in `sql/`.

Each `sql/<model>.sql` is one SELECT; `stg_*` models become views over the
Parquet datasets, the others tables. Dependencies are the other model names a
model mentions, so the files need no ordering. The database is built as a new
file and moved into place atomically: an analyst holding the old file open
read-only is never blocked and never sees half a build. A build holds the writer lock
(warehouse.storage.locking) of the data directory it writes into, and of the one it reads the parsed
version from when that is another: no parse can swap or remove the version under it.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import time
from contextlib import ExitStack
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

from warehouse.storage.locking import writer_lock
from warehouse.storage.parsed import current_version

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


@dataclass(frozen=True)
class Model:
    name: str
    sql: str
    deps: tuple[str, ...]

    @property
    def materialization(self) -> str:
        return "view" if self.name.startswith("stg_") else "table"

    @property
    def description(self) -> str:
        """The model's first comment line."""
        return self.sql.split("\n", 1)[0].lstrip("- ")


def load_models(sql_dir: Path = SQL_DIR) -> dict[str, Model]:
    texts = {p.stem: p.read_text(encoding="utf-8") for p in sorted(sql_dir.glob("*.sql"))}
    models = {}
    for name, sql in texts.items():
        body = re.sub(r"--[^\n]*", "", sql)  # names in comments are not dependencies
        deps = tuple(other for other in texts if other != name and re.search(rf"\b{other}\b", body))
        models[name] = Model(name, sql, deps)
    return models


def model_order(models: dict[str, Model]) -> list[str]:
    return list(TopologicalSorter({m.name: m.deps for m in models.values()}).static_order())


def render(sql: str, parsed_dir: Path) -> str:
    """Fill in where the Parquet datasets are: the current parsed version."""
    folder = current_version(Path(parsed_dir).resolve())
    return sql.replace("{{ parsed_dir }}", str(folder).replace("'", "''"))


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
    """What a build depends on: the current parsed version and the model SQL."""
    digest = hashlib.sha256(str(current_version(parsed_dir).resolve()).encode())
    for name in sorted(models):
        digest.update(name.encode() + b"\0" + models[name].sql.encode())
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
