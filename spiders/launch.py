"""Start a crawl in a subprocess (Scrapy's reactor cannot restart inside one process).

Importing this module does not import Scrapy; callers (CLI, Dagster) stay light.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path

STDERR_TAIL_LINES = 200  # kept for the error message and the summary's log_tail


def _forward_stderr(stream, tail: deque) -> None:
    """Copy the crawl's stderr to ours as it comes (Dagster captures ours: its log gets the
    periodic progress lines while the crawl runs), keeping the last lines."""
    for line in stream:
        sys.stderr.write(line)
        sys.stderr.flush()
        tail.append(line)


def crawl_command(sources: Path | str, archive: Path | str, run_id: str, profile: str = "polite", *,
                  base_url: str | None = None, source_ids: list[str] | None = None, full_walk: bool = False,
                  refetch: bool = False, include_disabled: bool = False, progress: str | None = None,
                  revisit_days: float | None = None) -> list[str]:
    """The `python -m spiders.run` command line for these options (revisit_days None: its default)."""
    cmd = [sys.executable, "-m", "spiders.run", "--sources", str(sources), "--archive", str(archive),
           "--run-id", run_id, "--profile", profile]
    if revisit_days is not None:
        cmd += ["--revisit-days", f"{revisit_days:g}"]
    if progress:
        cmd += ["--progress", progress]
    if base_url:
        cmd += ["--base-url", base_url]
    for source_id in source_ids or []:
        cmd += ["--source", source_id]
    flags = {"--full-walk": full_walk, "--refetch": refetch, "--include-disabled": include_disabled}
    return cmd + [flag for flag, on in flags.items() if on]


def run_crawl(sources: Path, archive: Path, run_id: str, profile: str = "polite",
              base_url: str | None = None, source_ids: list[str] | None = None,
              timeout: float | None = None, full_walk: bool = False, revisit_days: float | None = None) -> dict:
    """Run `python -m spiders.run` and return its summary (the JSON it writes next to the manifest)."""
    cmd = crawl_command(sources, archive, run_id, profile, base_url=base_url, source_ids=source_ids,
                        full_walk=full_walk, progress="plain", revisit_days=revisit_days)
    tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    with subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as proc:
        forwarder = threading.Thread(target=_forward_stderr, args=(proc.stderr, tail), daemon=True)
        forwarder.start()
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        forwarder.join()
    stderr = "".join(tail)
    if returncode != 0:
        raise RuntimeError(f"crawl failed (exit {returncode}):\n{stderr[-4000:]}")
    summary_path = Path(archive) / "manifest" / f"crawl-{run_id}.summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else {}
    summary["log_tail"] = stderr[-2000:]
    return summary
