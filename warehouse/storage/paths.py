"""Where the pipeline keeps its data. One folder holds everything a run makes."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


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
        """The writer lock of this data directory (warehouse.storage.locking)."""
        return self.root / ".writer.lock"
