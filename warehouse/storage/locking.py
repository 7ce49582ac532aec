"""One writer at a time per data directory: crawl, parse-archive and build take an exclusive
lock on `DATA_DIR/.writer.lock` (fcntl.flock) for as long as they write.

A second writer waits up to `wait` seconds (default `LOCK_WAIT_SECONDS`: 0, don't wait),
then raises WriterBusy, whose message is one line naming the holder (pid, command, since
when: written into the lock file by the holder). It never touches the holder's work.

A holder killed with SIGKILL leaves no stale lock: the kernel releases a flock when the
last descriptor of it closes, so nothing here reads pids to guess whether a holder lives;
the lock file's text only says who holds it, for the message.

The lock is reentrant in the thread holding it (a backfill holds it across parse and build);
another thread of the same process is a second writer like any other.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

# Seconds a second writer (crawl, parse-archive, build) waits for the data directory's lock
# before giving up with a message naming the holder (warehouse.storage.locking).
LOCK_WAIT_SECONDS = float(os.environ.get("DISCLOSURE_LOCK_WAIT", "0") or 0)


LOCK_NAME = ".writer.lock"
_POLL_SECONDS = 0.1


class WriterBusy(RuntimeError):
    """Another writer holds the data directory's lock; str() is a one-line message naming it."""

    def __init__(self, message: str, holder: dict):
        super().__init__(message)
        self.holder = holder


# lock path -> (fd, depth, owning thread ident) of the locks this process holds
_held: dict[str, tuple[int, int, int]] = {}
_held_guard = threading.Lock()


def lock_path(data_dir: str | Path) -> Path:
    return Path(data_dir).resolve() / LOCK_NAME


def read_holder(path: str | Path) -> dict:
    """What the holder wrote into the lock file ({} when nothing readable is there)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def busy_message(path: Path, holder: dict, waited: float) -> str:
    if holder.get("pid"):
        since = holder.get("since", "?")
        try:
            age = f", {int(time.time() - datetime.fromisoformat(since).timestamp())} s ago"
        except (TypeError, ValueError):
            age = ""
        who = f"{holder.get('command', '?')} (pid {holder['pid']}: {holder.get('argv', '?')}) since {since}{age}"
    else:
        who = "a writer that is just starting (it has not written its name yet)"
    return (f"{path.parent} is busy: {who} holds {path}; waited {waited:.0f} s. "
            f"Run again when it has finished.")


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise


@contextmanager
def writer_lock(data_dir: str | Path, command: str, wait: float | None = None) -> Iterator[Path]:
    """Hold the data directory's writer lock for the `with` block (`command` names the writer
    in the message a second writer gets). Raises WriterBusy after `wait` seconds."""
    path = lock_path(data_dir)
    key, me = str(path), threading.get_ident()
    with _held_guard:
        held = _held.get(key)
        if held and held[2] == me:          # reentrant in this thread
            _held[key] = (held[0], held[1] + 1, me)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield path
        finally:
            with _held_guard:
                fd, depth, owner = _held[key]
                _held[key] = (fd, depth - 1, owner)
        return

    wait = LOCK_WAIT_SECONDS if wait is None else max(0.0, float(wait))
    path.parent.mkdir(parents=True, exist_ok=True)
    # never truncated before the lock is ours: the holder's name stays readable
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    started = time.monotonic()
    try:
        while not _try_lock(fd):
            waited = time.monotonic() - started
            if waited >= wait:
                holder = read_holder(path)
                raise WriterBusy(busy_message(path, holder, waited), holder)
            time.sleep(min(_POLL_SECONDS, max(0.0, wait - waited)))
    except BaseException:
        os.close(fd)
        raise
    try:
        info = {"pid": os.getpid(), "command": command, "argv": " ".join(sys.argv)[:300],
                "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info, ensure_ascii=False) + "\n").encode(), 0)
        with _held_guard:
            _held[key] = (fd, 1, me)
        try:
            yield path
        finally:
            with _held_guard:
                del _held[key]
            os.ftruncate(fd, 0)   # whoever takes it next writes its own name
    finally:
        os.close(fd)              # closing the last descriptor releases the flock
