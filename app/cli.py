"""The `disclosure` command. Imports Dagster or Scrapy only inside the commands that need them.

A mistake of the person's (a missing file, a refused statement, an output that would overwrite
something) is a UserError: `main` prints `disclosure <command>: <message>` on stderr and exits 2.
Anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from pathlib import Path

from app.console import UserError, file_kind, print_rows, progress_bar, stat_mode, utf8
from warehouse.storage.paths import PROJECT_ROOT, DataPaths

def read_document(path: str) -> bytes:
    """The bytes of one document file. Looked at with stat before anything opens it: a directory,
    FIFO, device or socket is refused unopened (a FIFO would block the read forever)."""
    mode = stat_mode(path, UserError(f"no such file: {path}"), f"cannot read {path}")
    if stat.S_ISDIR(mode):
        raise UserError(f"{path} is a directory: give one document (parse-archive parses a whole archive)")
    if not stat.S_ISREG(mode):
        raise UserError(f"{path} is {file_kind(mode)}, not a regular file: refused")
    try:
        # O_NONBLOCK: should the path have become a FIFO since the stat, opening it does not wait
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fh.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise UserError(f"{path} is {file_kind(mode)}, not a regular file: refused")
        try:
            return fh.read()
        except OSError as exc:
            raise UserError(f"cannot read {path}: {exc.strerror}") from None


def cmd_parse(args: argparse.Namespace) -> int:
    data = read_document(args.file)
    from warehouse.parse import parse_bytes

    report = parse_bytes(data, filename=Path(args.file).name)
    if args.json:
        json.dump(report.to_json(), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        print(f"{args.file}: era={report.era} year={report.report_year} agency={report.agency_name} "
              f"facts={len(report.facts)} failed_checks={sum(not c.passed for c in report.checks)}")
        for note in report.notes:
            print(f"  note: {note}")
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    from app.analyst import run_query

    columns, rows = run_query(database(args), utf8("SQL", args.sql))
    print_rows(columns, rows)
    return 0


def database(args: argparse.Namespace) -> Path:
    return Path(args.database) if args.database else DataPaths.default().database


def data_paths(args: argparse.Namespace) -> DataPaths:
    return DataPaths(Path(args.data_dir).resolve()) if args.data_dir else DataPaths.default()


def run_parse_stage(paths: DataPaths, registry: str, **options):
    """parse_archive with a progress bar, then its one-screen summary."""
    from warehouse.stages.parse_archive import parse_archive

    bar, update = progress_bar("parsing documents")
    with bar:
        summary = parse_archive(paths.archive, paths.parsed, registry, progress=update, **options)
    print_rows(["documents", "parsed now", "reports", "facts", "failed checks", "quarantined",
                "limits per document", "years rewritten", "years carried over"],
               [(summary.documents, summary.parsed_now, summary.reports, summary.facts, summary.failed_checks,
                 ", ".join(f"{k} {v}" for k, v in summary.quarantined.items()) or "none",
                 f"{summary.doc_timeout:g} s, {summary.doc_memory_mb} MB ({summary.over_limits} over)",
                 year_ranges(summary.years_rewritten) or "none", year_ranges(summary.years_carried) or "none")],
               title=f"parse: {paths.parsed}" + (" (nothing changed)" if summary.unchanged else ""))
    if summary.left_for_full_run:
        print(f"{summary.left_for_full_run} document(s) belong to other years: the next full run parses them")
    return summary


def year_ranges(years: list[int]) -> str:
    """2014-2017, 2019 for [2014, 2015, 2016, 2017, 2019]."""
    spans: list[list[int]] = []
    for year in sorted(years):
        if spans and year == spans[-1][1] + 1:
            spans[-1][1] = year
        else:
            spans.append([year, year])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def run_build_stage(paths: DataPaths, force: bool = False) -> None:
    """build_warehouse with a progress bar, then its one-screen summary."""
    from warehouse.stages.build import build_warehouse

    bar, update = progress_bar("building models")
    with bar:
        stats = build_warehouse(paths.parsed, paths.database, progress=lambda m, d, t: update(d, t, m), force=force)
    if all(s["unchanged"] for s in stats.values()):
        print(f"nothing changed since the last build: {paths.database} kept (--force rebuilds)")
        return
    print_rows(["model", "kind", "rows", "seconds"],
               [(m, s["materialization"], s["rows"], s["seconds"]) for m, s in stats.items()])
    print(f"database: {paths.database}")


def limit_options(args: argparse.Namespace) -> dict:
    return {"doc_timeout": args.doc_timeout, "doc_memory_mb": args.doc_memory_mb,
            "retry_quarantined": args.retry_quarantined}


def cmd_parse_archive(args: argparse.Namespace) -> int:
    run_parse_stage(data_paths(args), args.registry, force=args.force, **limit_options(args))
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    run_build_stage(data_paths(args), force=args.force)
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    paths = data_paths(args)
    if not paths.archive.exists():
        raise UserError(f"no raw archive at {paths.archive} (crawl first)")
    from warehouse.storage.locking import writer_lock

    with writer_lock(paths.root, "backfill"):  # reentrant: parse and build run inside it, no writer between
        run_parse_stage(paths, args.registry, years=args.year, reparse=args.reparse, **limit_options(args))
        run_build_stage(paths)
    return 0


def mart_filter(args: argparse.Namespace):
    from app.analyst import MartFilter

    return MartFilter(agencies=[utf8("--agency", a) for a in args.agency or []],
                      levels=[utf8("--level", v) for v in args.level or []],
                      regions=[utf8("--region", r) for r in args.region or []],
                      year_from=args.year_from, year_to=args.year_to)


def add_filter_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database", help="the DuckDB file (default: data/warehouse.duckdb)")
    p.add_argument("--agency", action="append",
                   help="agency_id or part of its name, as literal text (repeatable)")
    p.add_argument("--level", action="append", help="national, provincial, prefecture, county, township, zone, department")
    p.add_argument("--region", action="append", help="GB/T 2260 code prefix, as literal text (repeatable)")
    p.add_argument("--year-from", type=int)
    p.add_argument("--year-to", type=int)


def cmd_export(args: argparse.Namespace) -> int:
    from app.analyst import export_mart

    rows = export_mart(database(args), args.format, args.output, mart_filter(args), force=args.force)
    print(f"{rows} rows of mart_agency_year written to {args.output}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from app.analyst import compare_agencies

    if not args.agency or len(args.agency) < 2:
        raise UserError("compare needs two or more --agency")
    columns, rows = compare_agencies(database(args), mart_filter(args))
    print_rows(columns, rows, title="Agencies compared (mart_agency_year)")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from app.report_page import write_report_page

    rows = write_report_page(database(args), args.output, mart_filter(args), force=args.force)
    print(f"charts of {rows} agency-year rows written to {args.output}")
    return 0


def cmd_scorecard(args: argparse.Namespace) -> int:
    from app.analyst import MartFilter
    from app.scorecard import export_scorecard, parse_years

    year_from, year_to = (args.year, args.year) if args.year is not None else \
        parse_years(args.years) if args.years else (None, None)
    flt = MartFilter(agencies=[utf8("--agency", a) for a in args.agency or []],
                     levels=[utf8("--level", v) for v in args.level or []],
                     regions=[utf8("--region", r) for r in args.region or []], year_from=year_from, year_to=year_to)
    summary = export_scorecard(database(args), utf8("--output", args.output), flt, force=args.force)
    print(summary.line(args.output))
    return 0


def cmd_dictionary(args: argparse.Namespace) -> int:
    from warehouse.metrics import dictionary_markdown, dictionary_rows

    rows = [r for r in dictionary_rows() if not args.dimension or r["dimension"] == args.dimension]
    if args.markdown:
        sys.stdout.write(dictionary_markdown())
    elif args.json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        print_rows(["dimension", "key", "label_zh", "label_en", "eras", "definition"],
                   [(r["dimension"], r["key"], r["label_zh"], r["label_en"], r["eras"], r["definition"]) for r in rows])
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from app.demo import run_demo

    return run_demo(DataPaths(Path(args.data_dir or PROJECT_ROOT / "data" / "demo").resolve()))


def cmd_crawl(args: argparse.Namespace) -> int:
    """Run `python -m spiders.run` in place of this process: its progress and summary draw
    straight on the terminal, and Ctrl-C reaches the crawl (which then stops cleanly)."""
    from spiders.gate import crawl_gate, new_run_id
    from spiders.launch import crawl_command
    from spiders.sources import load_sources

    try:
        sources = load_sources(args.sources, only_ids=args.source, base_url=args.base_url,
                               include_disabled=args.include_disabled)
    except (OSError, ValueError) as exc:
        raise UserError(str(exc)) from None
    gate = crawl_gate(sources)
    if gate.refused:
        raise UserError(gate.message)
    paths = data_paths(args)
    run_id = new_run_id()
    cmd = crawl_command(args.sources, paths.archive, run_id, args.profile, base_url=args.base_url,
                        source_ids=args.source, full_walk=args.full_walk, refetch=args.refetch,
                        include_disabled=args.include_disabled, revisit_days=args.revisit_days)
    os.execv(sys.executable, cmd)


def cmd_ui(args: argparse.Namespace) -> int:
    import shutil

    cmd = [sys.executable, "-m", "dagster", "dev", "-m", "pipelines.definitions",
           "--host", args.host, "--port", str(args.port)]
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    return run_process_group(cmd)


def run_process_group(cmd: list[str], grace: float = 3.5) -> int:
    """Run cmd in a process group of its own until it ends or this process gets SIGINT, SIGTERM or
    SIGHUP; then the signal goes to the whole group, and whatever of the group is left after `grace`
    seconds is killed (a second signal kills at once). Returns cmd's exit code, or 128 + the signal.

    The child starts with the default action for SIGINT and SIGTERM: a shell starts background
    jobs with SIGINT ignored, and `dagster dev` inherits that and ignores them otherwise. The grace
    is short because `dagster dev` (1.13) does not finish its own shutdown within 4 s even when idle:
    `disclosure ui` must be gone within 5 s of the signal.
    """
    import signal
    import subprocess
    import time

    forwarded = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    prctl = _linux_prctl()

    def child_setup() -> None:               # in the child, between fork and exec
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        if prctl is not None:
            prctl(1, signal.SIGTERM)         # PR_SET_PDEATHSIG: stop too if we are killed outright

    stopping: list[tuple[int, float]] = []   # (signal, deadline) of the first signal

    def forward(signum, _frame) -> None:
        first = not stopping
        if first:
            stopping.append((signum, time.monotonic() + grace))
        try:
            os.killpg(proc.pid, signum if first else signal.SIGKILL)
        except ProcessLookupError:
            pass

    previous = {sig: signal.getsignal(sig) for sig in forwarded}
    proc = subprocess.Popen(cmd, start_new_session=True, preexec_fn=child_setup)
    try:
        for sig in forwarded:
            signal.signal(sig, forward)
        while proc.poll() is None and not (stopping and time.monotonic() >= stopping[0][1]):
            time.sleep(0.1)
    finally:
        # whatever ended the wait: no process of the group outlives this one
        if not stopping and _group_alive(proc):
            stopping.append((0, time.monotonic() + grace))
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = stopping[0][1] if stopping else time.monotonic()
        while _group_alive(proc) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _group_alive(proc):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stopping and stopping[0][0]:
        return 128 + stopping[0][0]
    return proc.returncode


def _group_alive(proc) -> bool:
    """Is any process of proc's group still there? (Reaps proc itself first: a zombie leader counts.)"""
    proc.poll()
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _linux_prctl():
    """libc's prctl on Linux (looked up before the fork), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="disclosure", description="Disclosure statistics warehouse.")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="parse one document (HTML, PDF, DOCX, text) and print its facts")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print the JSON of spec/DATA_MODEL.md")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("demo", help="generate and serve the demo portal, crawl, parse, build, compare")
    p.add_argument("--data-dir", help="where the demo's data goes (default: ./data/demo)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("crawl", help="crawl the sources into the raw archive, with progress on the terminal")
    p.add_argument("--sources", default=str(PROJECT_ROOT / "sources.yaml"), help="sources registry (YAML)")
    p.add_argument("--data-dir", help="the archive goes to DATA_DIR/raw (default: $DISCLOSURE_DATA_DIR or ./data)")
    p.add_argument("--source", action="append", metavar="ID", help="crawl only this source (repeatable)")
    p.add_argument("--profile", default="polite", choices=("polite", "loopback"),
                   help="polite for real sites; loopback for local test and demo sites")
    p.add_argument("--base-url", help="substituted for {BASE} in entry URLs")
    p.add_argument("--include-disabled", action="store_true", help="also crawl sources marked enabled: false")
    p.add_argument("--refetch", action="store_true", help="fetch archived report pages and attachments again")
    p.add_argument("--revisit-days", type=float, metavar="DAYS",
                   help="request archived report pages and attachments again when their latest fetch is this "
                        "old, spread over a quarter more by URL (default 30; 0: every run), to see reports edited in place")
    p.add_argument("--full-walk", action="store_true",
                   help="walk every listing to its last page (by default a column's paging stops at a "
                        "newest-first page of archived reports, except every 7 days)")
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("parse-archive", help="parse the raw archive into the Parquet datasets")
    add_parse_arguments(p)
    p.add_argument("--force", action="store_true", help="write a new version even when nothing changed")
    p.set_defaults(func=cmd_parse_archive)

    p = sub.add_parser("backfill", help="re-parse the reports of some years and rebuild the warehouse")
    p.add_argument("--year", type=int, action="append", required=True, help="a report year (repeatable)")
    add_parse_arguments(p)
    p.add_argument("--reparse", action="store_true", help="parse those years' documents again, ignoring the parse cache")
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser("build", help="build the DuckDB warehouse from sql/ over the Parquet datasets")
    p.add_argument("--data-dir")
    p.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("query", help="run SQL on the warehouse (read-only) and print a table")
    p.add_argument("sql")
    p.add_argument("--database")
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("export", help="export mart_agency_year (filtered) as csv, xlsx or parquet")
    p.add_argument("--format", choices=["csv", "xlsx", "parquet"], required=True)
    p.add_argument("--output", required=True, help="a new file outside the data directory")
    p.add_argument("--force", action="store_true", help="replace --output if it exists")
    add_filter_arguments(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("compare", help="compare two or more agencies over a range of years")
    add_filter_arguments(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("report", help="write a static HTML page of charts (offline, no CDN)")
    p.add_argument("--output", required=True, help="a new file outside the data directory")
    p.add_argument("--force", action="store_true", help="replace --output if it exists")
    add_filter_arguments(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("scorecard", help="write mart_scorecard (filtered) as xlsx, csv or parquet, with a summary")
    p.add_argument("--output", required=True, help="a new .xlsx, .csv or .parquet file outside the data directory")
    p.add_argument("--force", action="store_true", help="replace --output if it exists")
    p.add_argument("--database", "--db", dest="database", help="the DuckDB file (default: data/warehouse.duckdb)")
    p.add_argument("--region", action="append",
                   help="GB/T 2260 code prefix, or part of a province, city or county name (repeatable)")
    p.add_argument("--level", action="append", help="national, provincial, prefecture, county, township, zone, department")
    p.add_argument("--agency", action="append", help="agency_id or part of its name, as literal text (repeatable)")
    years = p.add_mutually_exclusive_group()
    years.add_argument("--year", type=int, help="one report year")
    years.add_argument("--years", metavar="A-B", help="a range of report years, e.g. 2019-2023")
    p.set_defaults(func=cmd_scorecard)

    p = sub.add_parser("dictionary", help="the data dictionary: every key with labels, definition, eras")
    p.add_argument("--dimension", help="only one dimension (row, applicant, proceeding, result, item_type, measure, mart_column)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--markdown", action="store_true", help="the whole dictionary as Markdown (docs/data_dictionary.md)")
    p.set_defaults(func=cmd_dictionary)

    p = sub.add_parser("ui", help="serve the Dagster UI (127.0.0.1 by default)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=3000)
    p.set_defaults(func=cmd_ui)
    return ap


def add_parse_arguments(p: argparse.ArgumentParser) -> None:
    """The parse stage's options: where, with which agency registry, under which limits per document."""
    from warehouse.stages.workers import DOC_MEMORY_MB, DOC_TIMEOUT_SECONDS

    p.add_argument("--data-dir")
    p.add_argument("--registry", default=str(PROJECT_ROOT / "agencies.yaml"), help="agency registry YAML")
    p.add_argument("--doc-timeout", type=float, default=DOC_TIMEOUT_SECONDS, metavar="SECONDS",
                   help=f"wall-clock limit of one document's parse (default {DOC_TIMEOUT_SECONDS:g}); "
                        "past it the document is quarantined (timeout)")
    p.add_argument("--doc-memory-mb", type=int, default=DOC_MEMORY_MB, metavar="MB",
                   help=f"address-space limit of the process parsing one document (default {DOC_MEMORY_MB}); "
                        "past it the document is quarantined (memory)")
    p.add_argument("--retry-quarantined", action="store_true",
                   help="parse again the documents quarantined at a limit (timeout, memory, worker_died)")


def main(argv: list[str] | None = None) -> int:
    from warehouse.stages.contracts import ContractError
    from warehouse.storage.locking import WriterBusy

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except WriterBusy as exc:  # another writer holds the data directory: not an error of this command's input
        print(f"disclosure {args.command}: {exc}", file=sys.stderr)
        return 3
    except ContractError as exc:  # the new warehouse was not swapped in: the previous one stays
        print(f"disclosure {args.command}: {exc}; the previous warehouse is kept", file=sys.stderr)
        return 1
    except UserError as exc:
        print(f"disclosure {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"disclosure {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # whoever read our output stopped reading (`disclosure query … | head`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
