"""What the application shows a person at a terminal: tables, progress bars, and the one-line
errors for what they asked that cannot be done."""
from __future__ import annotations

import os
import stat
from pathlib import Path


class UserError(Exception):
    """Something the person asked for cannot be done (a missing file, a refused statement, an output
    that would overwrite something): the CLI prints the message on one line and exits 2.
    Never raised for a bug of ours."""


SPECIAL_FILES = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                 (stat.S_ISSOCK, "a socket"))


def file_kind(mode: int) -> str:
    return next((name for test, name in SPECIAL_FILES if test(mode)), "not a regular file")


def stat_mode(path: str | Path, missing: UserError | None, cannot: str) -> int | None:
    """The mode of what is at `path`, looked at with stat only: nothing is opened, so a FIFO never
    blocks. Nothing there: `missing` is raised (None: returns None); another error: a UserError
    `cannot: <reason>`."""
    try:
        return os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        if missing is None:
            return None
        raise missing from None
    except OSError as exc:
        raise UserError(f"{cannot}: {exc.strerror}") from None


def utf8(what: str, text: str) -> str:
    """text, unless it holds bytes that were not UTF-8 on the command line (Python's surrogate escapes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        shown = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
        raise UserError(f"{what} {shown!r} is not valid UTF-8") from None
    return text


def print_rows(columns: list[str], rows: list[tuple], title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    Console(width=200).print(table)


def progress_bar(description: str):
    """A rich progress bar and a callback `update(done, total)` for it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TextColumn("{task.fields[current]}"), transient=False)
    task = bar.add_task(description, total=None, current="")

    def update(done: int, total: int, current: str = "") -> None:
        bar.update(task, completed=done, total=total, current=current)

    return bar, update
