"""Processes as /proc shows them, for tests that start servers and must leave none behind."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, pgrp, ...), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def descendants(root: int) -> set[int]:
    """root and every process below it, as far as /proc shows them now."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := proc_stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, stack = set(), [root]
    while stack:
        pid = stack.pop()
        if pid not in found:
            found.add(pid)
            stack.extend(children.get(pid, []))
    return found


def is_alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent counts as ended)."""
    fields = proc_stat(pid)
    return fields is not None and fields[0] != "Z"


def group_members(pgids: set[int]) -> set[int]:
    """Live (non-zombie) processes whose process group is one of pgids."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := proc_stat(int(entry.name))) and fields[0] != "Z" \
                and int(fields[2]) in pgids:
            found.add(int(entry.name))
    return found


def pgid_of(pid: int) -> int | None:
    fields = proc_stat(pid)
    return int(fields[2]) if fields else None


def kill_leftovers(pids: set[int]) -> None:
    """SIGKILL the processes this test started that are still there (by pid, never by name)."""
    for pid in pids:
        if is_alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def ignore_int_and_term() -> None:
    """In the child before exec: what a non-interactive shell does for `cmd &` (and worse, TERM too)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def wait_until_gone(pids: set[int], pgids: set[int], limit: float) -> tuple[float, set[int]]:
    """(seconds waited, processes still alive) once none of pids nor any member of pgids is alive,
    or at limit + 3 s (so a failure shows how late, not only that)."""
    start = time.monotonic()
    while True:
        alive = {p for p in pids if is_alive(p)} | group_members(pgids)
        elapsed = time.monotonic() - start
        if not alive or elapsed > limit + 3:
            return elapsed, alive
        time.sleep(0.05)
