"""The SQL model runner: builds the DuckDB warehouse from the models in `sql/`.

Each `sql/<model>.sql` is one SELECT; `stg_*` models become views over the
Parquet datasets, the others tables. Dependencies are the other model names a
model mentions, so the files need no ordering. The database is built as a new
file and moved into place atomically: an analyst holding the old file open
read-only is never blocked and never sees half a build.
"""
from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

from warehouse.store import current_version

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"


@dataclass(frozen=True)
class Model:
    name: str
    sql: str
    deps: tuple[str, ...]

    @property
    def materialization(self) -> str:
        return "view" if self.name.startswith("stg_") else "table"


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


def build_warehouse(parsed_dir: str | Path, db_path: str | Path, sql_dir: Path = SQL_DIR,
                    only: list[str] | None = None, progress=None) -> dict[str, dict]:
    """Build every model (or `only` these and what they need) into a new DuckDB file at db_path.

    Returns {model: {"rows": n, "seconds": t}}; `progress(model, done, total)` is called after each model.
    """
    import duckdb

    models = load_models(sql_dir)
    order = model_order(models)
    if only:
        wanted = set()
        stack = list(only)
        while stack:
            name = stack.pop()
            if name not in wanted:
                wanted.add(name)
                stack.extend(models[name].deps)
        order = [m for m in order if m in wanted]
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(db_path)
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
                           "materialization": model.materialization}
            if progress:
                progress(name, len(stats), len(order))
        con.execute("checkpoint")
    except Exception:
        con.close()
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, db_path)
    return stats
