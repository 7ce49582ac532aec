"""Parsing documents under limits: a small pool of long-lived worker processes.

No document can stall, exhaust or crash the parse stage. Each is parsed in a worker process
(`python -m warehouse.stages.workers`, started once and reused for document after document) that
runs under two limits:

- wall clock (`timeout` seconds per document): the parent kills a worker that has not
  answered in time and starts a fresh one for the next document;
- memory: the worker's address space is capped (resource.RLIMIT_AS, `memory_mb`), so an
  allocation past it fails inside the worker (MemoryError), never in the parent or the host.
  A worker that ran out of memory, or came near the cap, exits after answering and is
  replaced: the next document starts in a fresh process.

A worker that dies otherwise (a crash in a C library, a signal) is replaced too. The outcome
of each document is one of `parsed` (the worker wrote the parse JSON to the task's `out`
file) or a limit reason, `timeout`, `memory` or `worker_died`, with a one-line detail.

The worker reads each body from the archive itself (only paths cross the pipe) and writes
its JSON itself, so the parent never holds a document. Workers also die with the parent
(PR_SET_PDEATHSIG on Linux; end of input otherwise) and carry a CPU-time backstop
(RLIMIT_CPU) in case the parent is gone before it could kill them.

This module imports neither pyarrow nor the parser in the parent.
"""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

# Limits of one document's parse (warehouse.stages.workers): wall-clock seconds and address space.
# An image-only report is read by OCR at about 8.5 s of CPU a page (benchmarks/ocr.py), 15-20 s
# of wall clock on a shared core: a 10-page scan needs 1.5-3 minutes. OCR stops by itself at
# DocumentLimits.max_ocr_seconds (150 s); this limit is the backstop past it.
DOC_TIMEOUT_SECONDS = 180.0
DOC_MEMORY_MB = 1024
# Worker processes parsing at once. The parse stage's peak memory is bounded by the parent
# (streaming, a few hundred MB) plus PARSE_WORKERS x DOC_MEMORY_MB: one keeps it under 1.5 GB.
PARSE_WORKERS = 1


LIMIT_REASONS = ("timeout", "memory", "worker_died")
START_TIMEOUT = 120.0          # seconds a new worker may take to import the parser
RECYCLE_SHARE = 0.8            # a worker whose address space peaked above this share of the cap is replaced
MEMORY_SHARE = 0.95            # a document that failed with the address space past this share of the cap ran out of it
# How a failed allocation shows when a reader library turned MemoryError into a note.
MEMORY_MARKERS = ("MemoryError", "Memory allocation failed", "Cannot allocate memory", "std::bad_alloc")
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


@dataclass(frozen=True)
class DocLimits:
    """Per-document limits of the parse stage."""
    timeout: float = DOC_TIMEOUT_SECONDS     # wall-clock seconds
    memory_mb: int = DOC_MEMORY_MB           # address space of the worker process
    workers: int = PARSE_WORKERS

    def __post_init__(self):
        if not self.timeout > 0:
            raise ValueError("the per-document timeout must be positive")
        if self.memory_mb is not None and not self.memory_mb > 0:
            raise ValueError("the per-document memory limit must be positive")
        if self.workers < 1:
            raise ValueError("at least one worker")

    def as_dict(self) -> dict:
        return {"doc_timeout": self.timeout, "doc_memory_mb": self.memory_mb, "workers": self.workers}


@dataclass(frozen=True)
class Task:
    key: str                    # content sha256
    path: str                   # the body in the archive
    filename: str
    content_type: str | None
    out: str                    # where the worker writes the parse JSON
    # A 图片版 report page's images, (URL, body in the archive) in page order: the page and its
    # images are parsed as ONE document, under one wall clock, address-space cap and OCR budget,
    # as a scanned PDF of as many pages (the parse cache holds reports, not OCR'd grids, so the
    # images could not be read apart and combined in the parent without leaving the limits).
    images: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Outcome:
    task: Task
    status: str                 # parsed | timeout | memory | worker_died
    detail: str = ""
    seconds: float = 0.0
    peak_mb: float | None = None    # the worker's peak address space so far (parsed and memory outcomes)


# ------------------------------------------------------------------ parent side

class _Worker:
    def __init__(self, limits: DocLimits):
        env = dict(os.environ)
        # the worker runs this very code (not another installed copy), with one thread per library
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(var, "1")
        memory = str(int(limits.memory_mb) * 1024 * 1024) if limits.memory_mb else "0"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "warehouse.stages.workers", memory, str(limits.timeout), str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True)
        self.fd = self.proc.stdout.fileno()
        self.buffer = b""
        self.ready = False
        self.task: Task | None = None
        self.started = time.monotonic()      # of the process, then of the task
        self.killed = False

    def send(self, task: Task) -> None:
        self.task, self.started = task, time.monotonic()
        self.proc.stdin.write((json.dumps(task.__dict__, ensure_ascii=False) + "\n").encode())
        self.proc.stdin.flush()

    def messages(self) -> tuple[list[dict], bool]:
        """The messages readable now, and whether the worker's end is closed."""
        try:
            chunk = os.read(self.fd, 1 << 16)
        except OSError:
            chunk = b""
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()], not chunk

    def kill(self) -> None:
        self.killed = True
        if self.proc.poll() is None:
            self.proc.kill()
        self.reap()

    def reap(self) -> int | None:
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
        finally:
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass

    def close(self) -> None:
        """End of work: the worker exits at the end of its input; killed if it does not."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.reap()


def _death(returncode: int | None) -> tuple[str, str]:
    if returncode is not None and returncode < 0:
        sig = -returncode
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        if sig == signal.SIGXCPU:
            return "timeout", f"the worker used up its CPU-time backstop ({name})"
        if sig == signal.SIGKILL:
            return "worker_died", "the worker was killed (SIGKILL: the kernel's out-of-memory killer?)"
        return "worker_died", f"the worker died of {name}"
    return "worker_died", f"the worker exited with status {returncode}"


class WorkerPool:
    """Long-lived parse workers under `limits`; `run(tasks)` yields one Outcome per task as
    they finish (not in task order). Use as a context manager: leaving it ends the workers."""

    def __init__(self, limits: DocLimits | None = None):
        self.limits = limits or DocLimits()
        self.workers: list[_Worker] = []
        self.started = 0            # processes started, replacements included

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for worker in self.workers:
            if worker.task is not None or not worker.ready:   # busy, or still importing: nothing to wait for
                worker.kill()
            else:
                worker.close()
        self.workers.clear()

    def warm(self, documents: int) -> None:
        """Start the workers `documents` documents will need now, without waiting for them: they
        import the parser while the caller does other work."""
        while len(self.workers) < min(self.limits.workers, documents):
            self._start()

    def _start(self) -> _Worker:
        worker = _Worker(self.limits)
        self.workers.append(worker)
        self.started += 1
        return worker

    def _drop(self, worker: _Worker) -> None:
        self.workers.remove(worker)

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        pending = deque(tasks)
        while pending or any(w.task is not None for w in self.workers):
            # as many workers as there is work for, up to the limit
            while pending and len(self.workers) < self.limits.workers and \
                    len([w for w in self.workers if w.task is None]) < len(pending):
                self._start()
            for worker in list(self.workers):
                if worker.ready and worker.task is None and pending:
                    task = pending.popleft()
                    try:
                        worker.send(task)
                    except OSError:          # it died since its last answer: the task goes to another
                        pending.appendleft(task)
                        worker.task = None
                        worker.kill()
                        self._drop(worker)
            now = time.monotonic()
            deadlines = [w.started + (self.limits.timeout if w.ready else START_TIMEOUT) for w in self.workers
                         if w.task is not None or not w.ready]
            wait = max(0.0, min(deadlines) - now) if deadlines else None
            readable, _, _ = select.select([w.fd for w in self.workers], [], [], wait)
            for worker in list(self.workers):
                if worker.fd in readable:
                    yield from self._read(worker)
            now = time.monotonic()
            for worker in list(self.workers):
                if worker.task is not None and now - worker.started >= self.limits.timeout:
                    task, seconds = worker.task, now - worker.started
                    worker.kill()
                    self._drop(worker)
                    yield Outcome(task, "timeout", f"parsing took longer than {self.limits.timeout:g} s "
                                                   f"(the worker was stopped)", seconds)
                elif not worker.ready and now - worker.started >= START_TIMEOUT:
                    worker.kill()
                    raise RuntimeError(f"a parse worker did not start within {START_TIMEOUT:g} s")

    def _read(self, worker: _Worker) -> Iterator[Outcome]:
        messages, closed = worker.messages()
        for message in messages:
            if "ready" in message:
                worker.ready = True
            elif "done" in message and worker.task is not None:
                task, seconds = worker.task, time.monotonic() - worker.started
                worker.task = None
                yield Outcome(task, message["status"], message.get("detail", ""), seconds,
                              round(message.get("vm_peak", 0) / 2 ** 20, 1) or None)
                if message.get("recycle"):      # it exits after answering: a fresh one takes over
                    closed = True
        if closed:
            task, seconds = worker.task, time.monotonic() - worker.started
            returncode = worker.reap()
            self._drop(worker)
            if task is not None:
                reason, detail = _death(returncode)
                yield Outcome(task, reason, detail, seconds)
            elif not worker.ready:
                raise RuntimeError(f"a parse worker failed to start (exit status {returncode}); see its error above")


# ------------------------------------------------------------------ worker side

def _die_with_parent(parent_pid: int) -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:       # the parent died before the line above
        os._exit(1)


def _cpu_backstop(timeout: float) -> None:
    """A CPU-time limit a little past this document's wall-clock limit: a worker left alone
    by a dead parent ends by itself (SIGXCPU)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(usage.ru_utime + usage.ru_stime + 2 * timeout + 10)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _vm_peak() -> int:
    """Peak address space of this process in bytes (0 when unknown)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cap(memory_bytes: int) -> str:
    return f"the {memory_bytes / 2 ** 20:.0f} MB allowed" if memory_bytes else "the memory available"


def _parse_one(task: dict, memory_bytes: int) -> tuple[str, str]:
    """Parse one document into its `out` file: ("parsed", ""), or ("memory", detail) when it
    failed for want of memory. A failed allocation does not always say so: lxml reports one as
    "XMLSyntaxError: unknown error", and a reader library may turn MemoryError into a note; a
    document that gave no report while the worker's address space reached the cap counts too."""
    import traceback

    from warehouse.parse import parse_bytes

    try:
        data = Path(task["path"]).read_bytes()
        images = [(url, Path(path).read_bytes) for url, path in task.get("images") or ()]
        report = parse_bytes(data, filename=task["filename"], content_type=task["content_type"], images=images)
        result = report.to_json()
    except MemoryError:
        return "memory", f"the document needed more than {_cap(memory_bytes)} (MemoryError)"
    except Exception as exc:  # one bad document is a recorded skip, never the run's end
        result = {"status": "failed", "notes": [f"{type(exc).__name__}: {exc}"],
                  "traceback": traceback.format_exc(limit=3), "facts": [], "checks": []}
    finally:
        data = None
    if result.get("status") != "parsed":
        notes = "; ".join(result.get("notes") or [])
        if any(marker in notes for marker in MEMORY_MARKERS) or \
                (memory_bytes and _vm_peak() >= MEMORY_SHARE * memory_bytes):
            return "memory", f"the document needed more than {_cap(memory_bytes)} ({notes[:300]})"
    out = Path(task["out"])
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    except MemoryError:
        tmp.unlink(missing_ok=True)
        return "memory", f"the parse result needed more than {_cap(memory_bytes)} (MemoryError)"
    tmp.replace(out)
    return "parsed", ""


def worker_main(memory_bytes: int, timeout: float, parent_pid: int) -> int:
    import resource

    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)                       # what libraries print goes to stderr, not into the channel
    _die_with_parent(parent_pid)
    import warehouse.parse  # noqa: F401  (imports before the cap: they are not the document's)

    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    def send(message: dict) -> None:
        channel.write(json.dumps(message, ensure_ascii=False) + "\n")
        channel.flush()

    send({"ready": os.getpid()})
    for line in sys.stdin:
        task = json.loads(line)
        _cpu_backstop(timeout)
        status, detail = _parse_one(task, memory_bytes)
        peak = _vm_peak()
        recycle = status == "memory" or bool(memory_bytes and peak > RECYCLE_SHARE * memory_bytes)
        send({"done": task["key"], "status": status, "detail": detail, "recycle": recycle, "vm_peak": peak})
        if recycle:
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(worker_main(int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])))
