"""The raw archive: every fetched body stored once under its sha256, never rewritten,
plus one manifest row per response (Parquet files under `manifest/`).

Layout:
    ARCHIVE/objects/ab/cdef…      body bytes, named by sha256
    ARCHIVE/manifest/*.parquet    one file per crawl run, schema RAW_MANIFEST_SCHEMA
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.storage.arrow import empty_table, read_parquet, rows_to_table, table_rows
from warehouse.storage.schemas import RAW_MANIFEST_SCHEMA


class RawArchive:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.manifest_dir = self.root / "manifest"
        self._dirs: set[str] = set()  # object fan-out directories known to exist

    def object_path(self, sha256: str) -> Path:
        return self.objects / sha256[:2] / sha256[2:]

    def put(self, body: bytes) -> str:
        """Store a body; returns its sha256. Writing is atomic, an existing object is kept as is."""
        sha = hashlib.sha256(body).hexdigest()
        folder = os.path.join(self.objects, sha[:2])
        path = os.path.join(folder, sha[2:])
        if not os.path.exists(path):
            if folder not in self._dirs:
                os.makedirs(folder, exist_ok=True)
                self._dirs.add(folder)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(body)
                os.replace(tmp, path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        return sha

    def read(self, sha256: str) -> bytes:
        return self.object_path(sha256).read_bytes()

    def write_manifest(self, rows: list[dict], run_id: str) -> Path:
        """Write one crawl run's manifest rows atomically as manifest/crawl-<run_id>.parquet."""
        self.manifest_dir.mkdir(parents=True, exist_ok=True)
        path = self.manifest_dir / f"crawl-{run_id}.parquet"
        table = rows_to_table(rows, RAW_MANIFEST_SCHEMA)
        tmp = path.with_suffix(".parquet.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, path)
        return path

    def archived_urls(self) -> set[str]:
        """URLs of report pages and attachments some run archived with status 200."""
        rows = self.read_manifest().select(["url", "status", "kind", "sha256"]).to_pylist()
        return {r["url"] for r in rows if r["status"] == 200 and r["sha256"] and r["kind"] in ("report", "attachment")}

    def manifest_rows(self) -> list[dict]:
        """All manifest rows as dicts."""
        return table_rows(self.read_manifest())

    def read_manifest(self) -> pa.Table:
        """All manifest rows of all runs (empty table with the schema when there are none)."""
        files = sorted(self.manifest_dir.glob("*.parquet")) if self.manifest_dir.exists() else []
        if not files:
            return empty_table(RAW_MANIFEST_SCHEMA)
        return pa.concat_tables([read_parquet(f, RAW_MANIFEST_SCHEMA) for f in files])
