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

from warehouse.schemas import RAW_MANIFEST_SCHEMA


def rows_to_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Rows to a table column by column (Table.from_pylist pulls in pandas, ~1 s at start-up)."""
    return pa.table({f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in schema}, schema=schema)


class RawArchive:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.manifest_dir = self.root / "manifest"

    def object_path(self, sha256: str) -> Path:
        return self.objects / sha256[:2] / sha256[2:]

    def put(self, body: bytes) -> str:
        """Store a body; returns its sha256. Writing is atomic, an existing object is kept as is."""
        sha = hashlib.sha256(body).hexdigest()
        path = self.object_path(sha)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
            os.replace(tmp, path)
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

    def read_manifest(self) -> pa.Table:
        """All manifest rows of all runs (empty table with the schema when there are none)."""
        files = sorted(self.manifest_dir.glob("*.parquet")) if self.manifest_dir.exists() else []
        if not files:
            return RAW_MANIFEST_SCHEMA.empty_table()
        return pa.concat_tables([pq.read_table(f, schema=RAW_MANIFEST_SCHEMA) for f in files])
