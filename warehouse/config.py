"""Where the pipeline keeps its data. One folder holds everything a run makes."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class DataPaths:
    root: Path

    @classmethod
    def default(cls) -> "DataPaths":
        return cls(Path(os.environ.get("DISCLOSURE_DATA_DIR", PROJECT_ROOT / "data")).resolve())

    @property
    def archive(self) -> Path:
        return self.root / "raw"

    @property
    def parsed(self) -> Path:
        return self.root / "parsed"

    @property
    def database(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def lock(self) -> Path:
        """The writer lock of this data directory (warehouse.locking)."""
        return self.root / ".writer.lock"


# Limits of one document's parse (warehouse.workers): wall-clock seconds and address space.
DOC_TIMEOUT_SECONDS = 60.0
DOC_MEMORY_MB = 1024
# Worker processes parsing at once. The parse stage's peak memory is bounded by the parent
# (streaming, a few hundred MB) plus PARSE_WORKERS x DOC_MEMORY_MB: one keeps it under 1.5 GB.
PARSE_WORKERS = 1

# Seconds a second writer (crawl, parse-archive, build) waits for the data directory's lock
# before giving up with a message naming the holder (warehouse.locking).
LOCK_WAIT_SECONDS = float(os.environ.get("DISCLOSURE_LOCK_WAIT", "0") or 0)
