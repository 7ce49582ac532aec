"""Writing the parsed datasets as Parquet, partitioned by report_year.

One parse run writes one version folder `PARSED/@<stamp>/` holding every dataset:
`<name>/report_year=YYYY/part-NNNNN.parquet` (the column is also inside each file), or
`<name>/part-NNNNN.parquet` when unpartitioned; an empty dataset is one file with the
schema and no rows, so the SQL views always have something to read. Rows are written
in batches as they come, so memory stays bounded however large the corpus. `commit()`
swaps the symlink `PARSED/current` to the new version atomically (year partitions that
did not change are carried over from the previous version by hard link): a reader never sees
half a write, the datasets always come from the same run, and a killed run leaves the
previous version current.

Old versions are removed by the writer (which holds the data directory's writer lock,
warehouse.storage.locking): at commit, and at the start of the next run, every version but the
current one and the one it replaced (a reader may still be reading it) goes, the half-written
folder of a killed run with them.
"""
from __future__ import annotations

import json
import os
import shutil
import uuid
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq

from warehouse.storage.arrow import rows_to_table
from warehouse.storage.schemas import DATASETS

BATCH_ROWS = 50_000   # rows a dataset buffers before writing them: 50,000 keeps the parse stage near 400 MB at 100,000 documents
CURRENT = "current"
VERSION_INFO = "_version.json"
PREVIOUS = "previous"   # key of the version info: the version this one replaced


def current_version(parsed_dir: str | Path) -> Path:
    """The folder the SQL models read: PARSED/current."""
    return Path(parsed_dir) / CURRENT


def read_version_info(parsed_dir: str | Path) -> dict:
    """The info the current version was committed with ({} when there is none)."""
    path = current_version(parsed_dir) / VERSION_INFO
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def remove_stale_versions(parsed_dir: str | Path) -> list[str]:
    """Delete every version folder but the current one and the one it replaced, and the
    symlinks a killed commit left; returns the names removed. Only a writer holding the
    data directory's lock may call this (another run's new version would look stale)."""
    root = Path(parsed_dir)
    link = current_version(root)
    keep: set[str] = set()
    if link.is_symlink() or link.exists():
        keep.add(link.resolve().name)
        keep.add(read_version_info(root).get(PREVIOUS) or "")
    removed = []
    for stale in root.glob("@*"):
        if stale.name not in keep:
            shutil.rmtree(stale, ignore_errors=True)
            removed.append(stale.name)
    for leftover in root.glob(f".{CURRENT}.link-*"):
        leftover.unlink(missing_ok=True)
    return removed


def update_version_info(parsed_dir: str | Path, changes: dict) -> None:
    """Change entries of the current version's info in place (atomically)."""
    path = current_version(parsed_dir) / VERSION_INFO
    tmp = path.with_name(f".{VERSION_INFO}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(json.dumps({**read_version_info(parsed_dir), **changes}, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


class DatasetWriter:
    def __init__(self, version: Path, name: str, batch_rows: int = BATCH_ROWS):
        self.folder, self.batch_rows = version / name, batch_rows
        self.schema, self.partitioned = DATASETS[name]
        self.folder.mkdir(parents=True)
        self.buffers: dict[object, list[dict]] = defaultdict(list)
        self.buffered = 0
        self.parts = 0
        self.rows = 0
        self.carried: set = set()  # year partitions taken from the previous version

    def add(self, row: dict) -> None:
        if self.carried and row.get("report_year") in self.carried:
            raise ValueError(f"{self.folder.name}: year {row['report_year']} was carried over, not rewritten")
        self.buffers[row.get("report_year") if self.partitioned else None].append(row)
        self.buffered += 1
        self.rows += 1
        if self.buffered >= self.batch_rows:
            self.flush()

    def extend(self, rows) -> None:
        for row in rows:
            self.add(row)

    def flush(self) -> None:
        for key, rows in self.buffers.items():
            folder = self.folder
            if self.partitioned:
                folder = self.folder / f"report_year={key if key is not None else '__unknown__'}"
                folder.mkdir(exist_ok=True)
            self.parts += 1
            pq.write_table(rows_to_table(rows, self.schema), folder / f"part-{self.parts:05d}.parquet")
        self.buffers.clear()
        self.buffered = 0

    def close(self) -> None:
        self.flush()
        if self.parts == 0 and not self.carried:
            pq.write_table(self.schema.empty_table(), self.folder / "part-00000.parquet")


class ParsedVersion:
    """Writers of every dataset of one parse run, made current together by commit()."""

    def __init__(self, parsed_dir: str | Path, batch_rows: int = BATCH_ROWS):
        self.root = Path(parsed_dir)
        self.version = self.root / f"@{uuid.uuid4().hex[:12]}"
        self.writers = {name: DatasetWriter(self.version, name, batch_rows) for name in DATASETS}

    def __getitem__(self, name: str) -> DatasetWriter:
        return self.writers[name]

    def carry_over(self, previous: Path, years) -> None:
        """Take the year partitions `years` of every partitioned dataset from the `previous`
        version as they are: hard links (a copy where links are not possible), never rewritten."""
        for name, writer in self.writers.items():
            if not writer.partitioned:
                continue
            for year in years:
                source = previous / name / f"report_year={year}"
                if not source.is_dir():
                    continue
                target = writer.folder / source.name
                target.mkdir()
                for part in source.iterdir():
                    try:
                        os.link(part, target / part.name)
                    except OSError:
                        shutil.copy2(part, target / part.name)
                writer.carried.add(year)

    def commit(self, info: dict | None = None) -> Path:
        """Make this version current; `info` is kept beside it (what it was made from)."""
        for writer in self.writers.values():
            writer.close()
        current = self.root / CURRENT
        replaced = current.resolve().name if current.exists() else None
        info = {**(info or {}), PREVIOUS: replaced}
        (self.version / VERSION_INFO).write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
        link = self.root / f".{CURRENT}.link-{uuid.uuid4().hex[:8]}"
        os.symlink(self.version.name, link)
        os.replace(link, current)
        # Older versions, and any left behind by a killed run, are no longer read: the one
        # replaced stays until the next commit (a reader may have opened it just before the swap).
        remove_stale_versions(self.root)
        return current


def write_datasets(parsed_dir: str | Path, rows_by_dataset: dict[str, list[dict]]) -> Path:
    """Write a whole parsed version at once (datasets not named are written empty)."""
    version = ParsedVersion(parsed_dir)
    for name, rows in rows_by_dataset.items():
        version[name].extend(rows)
    return version.commit()
