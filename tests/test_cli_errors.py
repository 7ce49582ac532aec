"""A person's mistake never ends in a traceback: `disclosure <command>: <one line>` on stderr, exit 2.

Covers `disclosure parse` on what is not a readable regular file (missing, a directory, a FIFO, a device,
a socket, unreadable: special files refused without being opened), the analyst commands without a
warehouse (the message names the path looked for and how to build one), and the single handler in
`main` (UserError only: a bug keeps its traceback).
"""
from __future__ import annotations

import builtins
import os
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from app import cli
from app.console import UserError

pytestmark = pytest.mark.slow  # runs the CLI in subprocesses

DISCLOSURE = Path(sys.executable).with_name("disclosure")
PROJECT_ROOT = Path(__file__).resolve().parents[1]
FIXTURE_PAGE = next((p for p in sorted((PROJECT_ROOT / "tests" / "fixtures").rglob("*.html"))), None)


def run(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(DISCLOSURE), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def assert_user_error(proc: subprocess.CompletedProcess, command: str, message: str) -> None:
    """Exit 2 and exactly one line on stderr, `disclosure <command>: <message>`; nothing on stdout."""
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stderr == f"disclosure {command}: {message}\n", proc.stderr
    assert proc.stdout == "", proc.stdout


def missing_warehouse_message(path: Path | str) -> str:
    return (f"no warehouse at {path}: build it with `disclosure build`, or run `make demo` "
            f"(it writes data/demo/warehouse.duckdb) and pass --database data/demo/warehouse.duckdb")


# --- disclosure parse -------------------------------------------------------------------------------------------

def test_parse_a_missing_file(tmp_path):
    missing = tmp_path / "nope.html"
    assert_user_error(run("parse", str(missing)), "parse", f"no such file: {missing}")
    assert_user_error(run("parse", str(tmp_path / "nope" / "deeper.pdf")), "parse",
                      f"no such file: {tmp_path / 'nope' / 'deeper.pdf'}")


def test_parse_a_directory(tmp_path):
    assert_user_error(run("parse", str(tmp_path)), "parse",
                      f"{tmp_path} is a directory: give one document (parse-archive parses a whole archive)")


def test_parse_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "report.html"
    os.mkfifo(fifo)
    proc = run("parse", str(fifo), timeout=30)        # before: blocked forever waiting for a writer
    assert_user_error(proc, "parse", f"{fifo} is a FIFO, not a regular file: refused")


def test_parse_a_device_is_refused():
    proc = run("parse", "/dev/zero", timeout=30)      # reading it would never end
    assert_user_error(proc, "parse", "/dev/zero is a character device, not a regular file: refused")


def test_parse_a_socket_is_refused():
    with tempfile.TemporaryDirectory(dir="/tmp") as short:        # AF_UNIX paths are short
        path = Path(short) / "s.html"
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(path))
            assert_user_error(run("parse", str(path)), "parse", f"{path} is a socket, not a regular file: refused")


def test_parse_never_opens_a_special_file(tmp_path, monkeypatch, capsys):
    """The refusal comes from stat alone: nothing opens the FIFO or the device, not even non-blocking."""
    fifo = tmp_path / "pipe.pdf"
    os.mkfifo(fifo)
    opened: list[str] = []
    real_os_open, real_open = os.open, builtins.open

    def spy_os_open(path, *a, **k):
        opened.append(os.fspath(path))
        return real_os_open(path, *a, **k)

    def spy_open(file, *a, **k):
        if isinstance(file, (str, bytes, os.PathLike)):
            opened.append(os.fsdecode(file))
        return real_open(file, *a, **k)

    monkeypatch.setattr(os, "open", spy_os_open)
    monkeypatch.setattr(builtins, "open", spy_open)
    for path, kind in ((fifo, "a FIFO"), (Path("/dev/zero"), "a character device")):
        assert cli.main(["parse", str(path)]) == 2
        assert capsys.readouterr().err == f"disclosure parse: {path} is {kind}, not a regular file: refused\n"
    assert str(fifo) not in opened and "/dev/zero" not in opened, opened


def test_parse_an_unreadable_file(tmp_path, monkeypatch, capsys):
    page = tmp_path / "secret.html"
    page.write_text("<html></html>", encoding="utf-8")
    page.chmod(0)
    if os.geteuid() != 0:                            # root reads it anyway: then only the simulation below
        assert_user_error(run("parse", str(page)), "parse", f"cannot read {page}: Permission denied")

    real_os_open = os.open

    def denied(path, *a, **k):
        if os.fspath(path) == str(page):
            raise PermissionError(13, "Permission denied", str(path))
        return real_os_open(path, *a, **k)

    monkeypatch.setattr(os, "open", denied)
    assert cli.main(["parse", str(page)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"disclosure parse: cannot read {page}: Permission denied\n"
    assert captured.out == ""


def test_parse_a_path_through_a_file_is_missing(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("x", encoding="utf-8")
    assert_user_error(run("parse", str(page / "inner.html")), "parse", f"no such file: {page / 'inner.html'}")


@pytest.mark.skipif(FIXTURE_PAGE is None, reason="no HTML fixture")
def test_parse_still_parses_a_regular_file_and_a_symlink_to_one(tmp_path):
    link = tmp_path / "link.html"
    link.symlink_to(FIXTURE_PAGE)
    for path in (FIXTURE_PAGE, link):
        proc = run("parse", str(path))
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith(f"{path}: era="), proc.stdout


def test_read_document_reads_the_bytes(tmp_path):
    page = tmp_path / "a.txt"
    page.write_bytes(b"\xe5\xb9\xb4\xe5\xba\xa6\x00binary")
    assert cli.read_document(str(page)) == b"\xe5\xb9\xb4\xe5\xba\xa6\x00binary"


# --- the analyst commands without a warehouse -------------------------------------------------------------------

ANALYST_COMMANDS = {
    "query": lambda out: ["query", "select 1"],
    "export": lambda out: ["export", "--format", "csv", "--output", str(out / "x.csv")],
    "compare": lambda out: ["compare", "--agency", "a", "--agency", "b"],
    "report": lambda out: ["report", "--output", str(out / "x.html")],
    "scorecard": lambda out: ["scorecard", "--output", str(out / "x.csv")],
}


@pytest.mark.parametrize("command", sorted(ANALYST_COMMANDS))
def test_missing_warehouse_names_the_path_and_how_to_build_one(tmp_path, command):
    out = tmp_path / "out"
    out.mkdir()
    data = tmp_path / "data"
    # the default: $DISCLOSURE_DATA_DIR/warehouse.duckdb
    proc = run(*ANALYST_COMMANDS[command](out), env={"DISCLOSURE_DATA_DIR": str(data)})
    assert_user_error(proc, command, missing_warehouse_message(data / "warehouse.duckdb"))
    # --database, as given
    given = tmp_path / "elsewhere" / "wh.duckdb"
    proc = run(*ANALYST_COMMANDS[command](out), "--database", str(given))
    assert_user_error(proc, command, missing_warehouse_message(given))
    assert list(out.iterdir()) == []                  # nothing written


@pytest.mark.parametrize("command", sorted(ANALYST_COMMANDS))
def test_a_warehouse_that_is_not_one(tmp_path, command):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "wh").mkdir()               # the warehouse's own data directory, apart from the output's
    fifo = tmp_path / "wh" / "fifo.duckdb"
    os.mkfifo(fifo)
    proc = run(*ANALYST_COMMANDS[command](out), "--database", str(fifo), timeout=30)
    assert_user_error(proc, command, f"{fifo} is not a regular file: refused")
    proc = run(*ANALYST_COMMANDS[command](out), "--database", str(out))
    assert_user_error(proc, command, f"{out} is a directory, not a warehouse file (give the .duckdb file)")
    text = tmp_path / "wh" / "text.duckdb"
    text.write_text("not a database\n", encoding="utf-8")
    proc = run(*ANALYST_COMMANDS[command](out), "--database", str(text))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith(f"disclosure {command}: cannot open the warehouse {text}: ")
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert text.read_text(encoding="utf-8") == "not a database\n"       # untouched
    assert list(out.iterdir()) == []


def test_compare_needs_two_agencies(tmp_path):
    assert_user_error(run("compare", "--agency", "qcs", "--database", str(tmp_path / "none.duckdb")), "compare",
                      "compare needs two or more --agency")


def test_a_filter_that_is_not_utf8(tmp_path):
    proc = subprocess.run([os.fsencode(DISCLOSURE), b"export", b"--format", b"csv", b"--output",
                           os.fsencode(tmp_path / "x.csv"), b"--agency", b"\xff%"],
                          capture_output=True, timeout=60)
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.decode("utf-8") == "disclosure export: --agency '\ufffd%' is not valid UTF-8\n"
    assert not (tmp_path / "x.csv").exists()


def test_backfill_without_an_archive(tmp_path):
    assert_user_error(run("backfill", "--year", "2020", "--data-dir", str(tmp_path)), "backfill",
                      f"no raw archive at {tmp_path / 'raw'} (crawl first)")


# --- the handler in main ----------------------------------------------------------------------------------------

def test_main_turns_a_user_error_into_one_line_and_exit_2(monkeypatch, capsys):
    def refuse(_args):
        raise UserError("it cannot be done")

    monkeypatch.setattr(cli, "cmd_dictionary", refuse)     # build_parser looks the command up when called
    assert cli.main(["dictionary"]) == 2
    captured = capsys.readouterr()
    assert captured.err == "disclosure dictionary: it cannot be done\n"
    assert captured.out == ""


def test_main_keeps_the_traceback_of_a_bug(monkeypatch):
    def bug(_args):
        raise KeyError("a bug of ours")

    monkeypatch.setattr(cli, "cmd_dictionary", bug)
    with pytest.raises(KeyError, match="a bug of ours"):
        cli.main(["dictionary"])


def test_the_cli_starts_fast_without_heavy_imports():
    code = ("import sys, time; t = time.perf_counter(); import app.cli; "
            "heavy = sorted(m for m in ('duckdb', 'pyarrow', 'dagster', 'scrapy', 'rich', 'openpyxl', 'plotly') "
            "if m in sys.modules); print(heavy, time.perf_counter() - t)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT)
    heavy, seconds = proc.stdout.rsplit(" ", 1)
    assert heavy == "[]", heavy
    assert float(seconds) < 1.0, seconds


def test_special_file_kinds_are_named():
    assert cli.file_kind(stat.S_IFIFO) == "a FIFO"
    assert cli.file_kind(stat.S_IFCHR) == "a character device"
    assert cli.file_kind(stat.S_IFBLK) == "a block device"
    assert cli.file_kind(stat.S_IFSOCK) == "a socket"
