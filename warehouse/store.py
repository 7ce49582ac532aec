"""Writing the parsed datasets as Parquet, partitioned by report_year.

A dataset is a folder `<name>/` with `report_year=YYYY/part.parquet` files (the
column is also inside each file) or one `part.parquet` when unpartitioned; an
empty dataset is one file with the schema and no rows, so the SQL views always
have something to read. Each dataset is written to a new folder and swapped
into place, so a reader never sees half a write: `<name>` is a symlink to the
current version folder `<name>@<stamp>`, replaced atomically.
"""
from __future__ import annotations

import os
import shutil
import uuid
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq

from warehouse.archive import rows_to_table

from warehouse.schemas import DATASETS


def write_dataset(root: Path, name: str, rows: list[dict]) -> Path:
    schema, partitioned = DATASETS[name]
    final = root / name
    tmp = root / f"{name}@{uuid.uuid4().hex[:12]}"
    tmp.mkdir(parents=True)
    if partitioned and rows:
        by_year: dict[object, list[dict]] = defaultdict(list)
        for row in rows:
            by_year[row.get("report_year")].append(row)
        for year, part in sorted(by_year.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
            folder = tmp / f"report_year={year if year is not None else '__unknown__'}"
            folder.mkdir()
            pq.write_table(rows_to_table(part, schema), folder / "part.parquet")
    else:
        pq.write_table(rows_to_table(rows, schema), tmp / "part.parquet")
    link = root / f".{name}.link-{uuid.uuid4().hex[:8]}"
    os.symlink(tmp.name, link)
    os.replace(link, final)
    # The previous version, and any left behind by a killed run, are no longer current.
    for stale in root.glob(f"{name}@*"):
        if stale.resolve() != tmp.resolve():
            shutil.rmtree(stale, ignore_errors=True)
    return final


def dataset_glob(root: Path, name: str) -> str:
    return str(root / name / "**" / "*.parquet")
