"""One writer at a time per data directory (warehouse.storage.locking): a second parse-archive or build
exits with a one-line message naming the holder and never breaks the first; a holder killed
with SIGKILL blocks nobody; old parsed versions are removed by the writer, never the current one."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from tests.test_parse_limits import HTML, SITECUSTOMIZE, Archive, clean_2021, quarantine, report_urls, title
from warehouse.stages.build import build_warehouse
from warehouse.storage.locking import LOCK_NAME, WriterBusy, read_holder, writer_lock
from warehouse.stages.parse_archive import parse_archive

pytestmark = pytest.mark.slow  # concurrent writers in subprocesses

PROJECT = Path(__file__).resolve().parents[1]


def hold_lock(data_dir: Path, seconds: float, command: str = "holder") -> subprocess.Popen:
    """A child process holding the data directory's lock for `seconds` (it prints once it holds it)."""
    code = f"""
        import time
        from warehouse.storage.locking import writer_lock
        with writer_lock({str(data_dir)!r}, {command!r}):
            print("locked", flush=True)
            time.sleep({seconds})
    """
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_second_parse_archive_exits_with_the_lock_message(tmp_path):
    data = tmp_path / "data"
    archive = Archive(data)
    archive.add("crawl-1", "clean", clean_2021("clean"), HTML, title("clean"))
    archive.add("crawl-1", "sleeps", b"HOSTILE-SLEEP sleeps " + b"x" * 100, HTML, title("sleeps"))
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    # the first run takes at least its 8 s limit on the document that sleeps
    first = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            from warehouse.stages.parse_archive import parse_archive
            summary = parse_archive({str(data / 'raw')!r}, {str(data / 'parsed')!r}, doc_timeout=8)
            print(summary.reports, summary.quarantined)
        """)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(hook), "PARSE_LIMITS_TEST_HOOK": "1"})
    deadline = time.monotonic() + 30
    while read_holder(data / LOCK_NAME).get("pid") != first.pid and time.monotonic() < deadline:
        time.sleep(0.05)
    assert read_holder(data / LOCK_NAME)["command"] == "parse-archive"
    started = time.monotonic()
    second = subprocess.run([sys.executable, "-m", "app.cli", "parse-archive", "--data-dir", str(data)],
                            capture_output=True, text=True, timeout=60, cwd=PROJECT)
    assert time.monotonic() - started < 20   # it did not wait for the first
    assert first.poll() is None, "the first run ended before the second was tried"
    assert second.returncode != 0
    message = second.stderr.strip().splitlines()[-1]
    assert "is busy" in message and f"pid {first.pid}" in message and "parse-archive" in message, second.stderr
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err[-2000:]
    assert out.split()[0] == "1"   # the first run's result is whole
    assert report_urls(data / "parsed") == {"clean.html"}
    assert quarantine(data / "parsed")["sleeps.html"]["reason"] == "timeout"
    assert len(list((data / "parsed").glob("@*"))) == 1   # the second made no version
    assert read_holder(data / LOCK_NAME) == {}             # released: nobody named


def test_build_while_a_parse_runs_is_refused(tmp_path):
    data = tmp_path / "data"
    archive = Archive(data)
    archive.add("crawl-1", "clean", clean_2021("clean"), HTML, title("clean"))
    parse_archive(data / "raw", data / "parsed")
    holder = hold_lock(data, 30, "parse-archive")
    try:
        with pytest.raises(WriterBusy) as busy:
            build_warehouse(data / "parsed", data / "warehouse.duckdb")
        assert f"pid {holder.pid}" in str(busy.value) and "\n" not in str(busy.value)
        # a build into another folder still reads this data directory's parsed version: refused too
        with pytest.raises(WriterBusy):
            build_warehouse(data / "parsed", tmp_path / "elsewhere" / "warehouse.duckdb")
        with pytest.raises(WriterBusy):
            parse_archive(data / "raw", data / "parsed", force=True)
    finally:
        holder.kill()
        holder.wait()
    assert not (data / "warehouse.duckdb").exists()
    build_warehouse(data / "parsed", data / "warehouse.duckdb")
    assert (data / "warehouse.duckdb").exists()


def test_message_names_the_holder(tmp_path):
    holder = hold_lock(tmp_path, 30, "crawl")
    try:
        with pytest.raises(WriterBusy) as busy:
            with writer_lock(tmp_path, "build"):
                pass
    finally:
        holder.kill()
        holder.wait()
    message = str(busy.value)
    assert "\n" not in message
    assert f"crawl (pid {holder.pid}" in message and " since 20" in message and str(tmp_path) in message
    assert busy.value.holder["pid"] == holder.pid and busy.value.holder["command"] == "crawl"


def test_second_writer_waits_up_to_its_limit(tmp_path):
    holder = hold_lock(tmp_path, 1.0)
    started = time.monotonic()
    with pytest.raises(WriterBusy) as busy:
        with writer_lock(tmp_path, "build", wait=0.3):
            pass
    assert 0.25 < time.monotonic() - started < 1.0 and "waited 0 s" in str(busy.value)
    with writer_lock(tmp_path, "build", wait=30):   # the holder lets go after 1 s
        assert read_holder(tmp_path / LOCK_NAME)["pid"] == os.getpid()
    assert time.monotonic() - started < 10
    holder.wait(timeout=10)


def test_killed_holder_blocks_nobody(tmp_path):
    holder = hold_lock(tmp_path, 600)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert read_holder(tmp_path / LOCK_NAME)["pid"] == holder.pid   # its name is still written …
    with writer_lock(tmp_path, "parse-archive", wait=0):            # … but the kernel released the lock
        pass


def test_reentrant_in_one_thread_exclusive_across_threads(tmp_path):
    errors = []

    def other_thread():
        try:
            with writer_lock(tmp_path, "other"):
                errors.append("the other thread got the lock")
        except WriterBusy:
            pass

    with writer_lock(tmp_path, "backfill"):
        with writer_lock(tmp_path, "parse-archive"):   # a backfill parses then builds
            thread = threading.Thread(target=other_thread)
            thread.start()
            thread.join()
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert not errors
    with writer_lock(tmp_path, "after"):
        pass


def test_old_versions_are_removed_current_never(tmp_path):
    data = tmp_path / "data"
    archive = Archive(data)
    archive.add("crawl-1", "clean", clean_2021("clean"), HTML, title("clean"))
    parsed = data / "parsed"
    made = []
    for _ in range(3):
        parse_archive(data / "raw", parsed, force=True)
        made.append((parsed / "current").resolve().name)
        versions = {p.name for p in parsed.glob("@*")}
        assert versions == set(made[-2:])   # the current one and the one it replaced
    # a killed run's half-written folder and a killed commit's link: gone at the next run,
    # even one with nothing to do
    (parsed / "@deadbeef0000" / "facts").mkdir(parents=True)
    os.symlink("@deadbeef0000", parsed / ".current.link-0000")
    assert parse_archive(data / "raw", parsed).unchanged
    assert {p.name for p in parsed.glob("@*")} == set(made[-2:])
    assert not list(parsed.glob(".current.link-*"))
    assert (parsed / "current").resolve().name == made[-1]
