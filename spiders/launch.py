"""Start a crawl in a subprocess (Scrapy's reactor cannot restart inside one process).

Importing this module does not import Scrapy; callers (CLI, Dagster) stay light.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def run_crawl(sources: Path, archive: Path, run_id: str, profile: str = "polite",
              base_url: str | None = None, source_ids: list[str] | None = None,
              timeout: float | None = None) -> dict:
    """Run `python -m spiders.run` and return its summary (the JSON it writes next to the manifest)."""
    cmd = [sys.executable, "-m", "spiders.run", "--sources", str(sources), "--archive", str(archive),
           "--run-id", run_id, "--profile", profile]
    if base_url:
        cmd += ["--base-url", base_url]
    for source_id in source_ids or []:
        cmd += ["--source", source_id]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"crawl failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    summary_path = Path(archive) / "manifest" / f"crawl-{run_id}.summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else {}
    summary["log_tail"] = proc.stderr[-2000:]
    return summary
