"""The analyst commands on a small demo warehouse: export (csv, xlsx, parquet) with filters, compare,
read-only query, and the data dictionary; and what they refuse: a statement that writes, reads a file
other than the warehouse, reaches the network or unlocks the connection; an export over an existing
file or into the data directory; LIKE wildcards in a filter matching more than themselves."""
from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from demo_portal.agencies import BY_ID
from warehouse import metrics
from tests.warehouse_fixture import demo_warehouse  # noqa: F401  (session fixture)

pytestmark = pytest.mark.slow  # builds warehouses, runs the CLI

DISCLOSURE = Path(sys.executable).with_name("disclosure")


def disclosure(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(DISCLOSURE), *args], capture_output=True, text=True, timeout=60)
    if check:
        assert proc.returncode == 0, f"disclosure {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    return proc


# (name, CLI filter arguments, the same filter in SQL, the same filter on (agency_id, year) of the answer key)
FILTERS = [
    ("agencies_and_years", ["--agency", "qcs", "--agency", "lzs", "--year-from", "2016", "--year-to", "2020"],
     "agency_id in ('qcs', 'lzs') and report_year between 2016 and 2020",
     lambda a, y: a in ("qcs", "lzs") and 2016 <= y <= 2020),
    ("levels_from_2019", ["--level", "county", "--level", "township", "--year-from", "2019"],
     "level in ('county', 'township') and report_year >= 2019",
     lambda a, y: BY_ID[a].level in ("county", "township") and y >= 2019),
    ("region_until_2018", ["--region", "5801", "--year-to", "2018"],
     "region_code like '5801%' and report_year <= 2018",
     lambda a, y: BY_ID[a].region_code.startswith("5801") and y <= 2018),
    ("name_part", ["--agency", "青川省", "--region", "58"],
     "(agency_name like '%青川省%' or agency_name_as_printed like '%青川省%') and region_code like '58%'",
     lambda a, y: a.startswith("qcs")),
]


def sql_rows(db: Path, where: str) -> tuple[list[str], list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        cur = con.execute(f"select * from mart_agency_year where {where} order by agency_id, report_year")
        return [d[0] for d in cur.description], cur.fetchall()


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
@pytest.mark.parametrize("name,args,where,in_key", FILTERS, ids=[f[0] for f in FILTERS])
def test_export_row_counts_match_sql(demo_warehouse, tmp_path, fmt, name, args, where, in_key):  # noqa: F811
    columns, expected = sql_rows(demo_warehouse.database, where)
    # the warehouse holds one mart row per archived report of the answer key that the filter selects
    from_key = {(r["agency_id"], r["report_year"]) for r in demo_warehouse.reports if in_key(r["agency_id"], r["report_year"])}
    assert len(expected) == len(from_key) > 0, (name, len(expected), len(from_key))
    assert {(r[0], r[columns.index("report_year")]) for r in expected} == from_key

    out = tmp_path / f"export.{fmt}"
    proc = disclosure("export", "--format", fmt, "--output", str(out), "--database", str(demo_warehouse.database), *args)
    assert f"{len(expected)} rows of mart_agency_year written" in proc.stdout, proc.stdout
    col = {c: i for i, c in enumerate(columns)}
    if fmt == "csv":
        with open(out, newline="", encoding="utf-8") as fh:
            got = list(csv.reader(fh))
        assert got[0] == columns
        assert len(got) - 1 == len(expected)
        assert [(r[0], int(r[col["report_year"]])) for r in got[1:]] == \
               [(r[0], r[col["report_year"]]) for r in expected]
        first = got[1]
        want = expected[0][col["requests_received"]]
        assert (float(first[col["requests_received"]]) if first[col["requests_received"]] else None) == want
        assert first[col["failed_checks"]] == ",".join(expected[0][col["failed_checks"]] or [])
    elif fmt == "xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(out, read_only=True)
        assert wb.sheetnames == ["机构年度对比", "字段说明"]
        rows = list(wb["机构年度对比"].iter_rows(values_only=True))
        header = list(rows[0])
        assert header == [metrics_label(c) for c in columns]
        assert {"机构名称", "报告年度", "本年新收申请数"} <= set(header)
        assert len(rows) - 1 == len(expected)
        year_at, received_at = header.index("报告年度"), header.index("本年新收申请数")
        assert [(r[0], r[year_at]) for r in rows[1:]] == [(r[0], r[col["report_year"]]) for r in expected]
        assert [r[received_at] for r in rows[1:]] == [r[col["requests_received"]] for r in expected]
        legend = list(wb["字段说明"].iter_rows(values_only=True))
        assert legend[0] == ("字段", "中文名", "English", "说明")
        assert [r[0] for r in legend[1:]] == [k.key for k in metrics.MART_COLUMNS]
        wb.close()
    else:
        table = pq.read_table(out)
        assert table.column_names == columns
        assert table.num_rows == len(expected)
        got = [tuple(r.values()) for r in table.to_pylist()]
        assert got == [tuple(list(r) if isinstance(r, (list, tuple)) else r for r in row) for row in expected]


def metrics_label(column: str) -> str:
    return {k.key: k.label_zh for k in metrics.MART_COLUMNS}.get(column, column)


def test_export_of_nothing_writes_an_empty_file_with_the_header(demo_warehouse, tmp_path):  # noqa: F811
    out = tmp_path / "none.csv"
    proc = disclosure("export", "--format", "csv", "--output", str(out), "--database", str(demo_warehouse.database),
                      "--agency", "no-such-agency")
    assert "0 rows" in proc.stdout
    with open(out, newline="", encoding="utf-8") as fh:
        lines = list(csv.reader(fh))
    assert lines == [[k.key for k in metrics.MART_COLUMNS]]


def test_compare_prints_both_agencies_over_the_years(demo_warehouse):  # noqa: F811
    proc = disclosure("compare", "--agency", "qcs", "--agency", "sxq", "--year-from", "2019", "--year-to", "2024",
                      "--database", str(demo_warehouse.database))
    out = proc.stdout
    with duckdb.connect(str(demo_warehouse.database), read_only=True) as con:
        rows = con.execute("select agency_name, report_year, requests_received, failed_any_check from mart_agency_year "
                           "where agency_id in ('qcs', 'sxq') and report_year between 2019 and 2024").fetchall()
    names = {r[0] for r in rows}
    assert names == {"青川省人民政府", "岚州市松溪区人民政府"}
    for name in names:
        assert out.count(name) == 6, (name, out)          # one line per year 2019-2024
    years = {int(cells[2]) for line in out.splitlines() if line.startswith("│")
             and (cells := [c.strip() for c in line.split("│")])[2].isdigit()}
    assert years == set(range(2019, 2025)), years
    lines = [line for line in out.splitlines() if "岚州市松溪区人民政府" in line and "2022" in line]
    assert len(lines) == 1 and "True" in lines[0]        # sxq 2022 breaks its reconsideration total on purpose
    for name, year, received, _ in rows:
        line = next(line for line in out.splitlines() if name in line and f" {year} " in line)
        assert str(received) in line, (name, year, received, line)
    assert disclosure("compare", "--agency", "qcs", "--database", str(demo_warehouse.database),
                      check=False).returncode != 0          # one agency is no comparison


def test_query_reads_while_another_reader_holds_the_file(demo_warehouse):  # noqa: F811
    db = str(demo_warehouse.database)
    with duckdb.connect(db, read_only=True) as other:
        (reports,) = other.execute("select count(*) from dim_report").fetchone()
        assert reports == len(demo_warehouse.reports) == 74   # the HTML reports of tests.warehouse_fixture.AGENCIES
        proc = disclosure("query", "select count(*) from dim_report", "--database", db)
        assert f"│ {reports} " in proc.stdout, proc.stdout
        # and the command cannot write
        bad = disclosure("query", "create table scratch as select 1", "--database", db, check=False)
        assert bad.returncode != 0 and "read-only" in (bad.stderr + bad.stdout).lower()
        assert other.execute("select count(*) from dim_report").fetchone()[0] == reports


def test_dictionary_json_lists_every_key_with_both_labels(demo_warehouse):  # noqa: F811
    rows = json.loads(disclosure("dictionary", "--json").stdout)
    got = {(r["dimension"], r["key"]): r for r in rows}
    assert len(got) == len(rows), "a key is listed twice"
    # every Key declared in warehouse.metrics, found by looking at the module itself
    declared = {id(k): k for v in vars(metrics).values() if isinstance(v, tuple) and v
                and all(isinstance(k, metrics.Key) for k in v) for k in v}
    by_dimension = {**metrics.DIMENSIONS, "mart_column": metrics.MART_COLUMNS}
    expected = {(dim, k.key): k for dim, keys in by_dimension.items() for k in keys}
    assert {id(k) for k in expected.values()} == set(declared), "a Key tuple of warehouse.metrics is not a dimension"
    assert set(got) == set(expected)
    for (dim, key), k in expected.items():
        row = got[(dim, key)]
        assert row["label_zh"] == k.label_zh and row["label_zh"].strip()
        assert row["label_en"] == k.label_en and row["label_en"].strip()
        assert row["eras"].split(",") == list(k.eras)
    assert got[("mart_column", "requests_received")]["label_zh"] == "本年新收申请数"
    # every column of the mart is described, and the warehouse's dim_metric holds the same keys
    with duckdb.connect(str(demo_warehouse.database), read_only=True) as con:
        mart_columns = [r[0] for r in con.execute("describe mart_agency_year").fetchall()]
        dim_metric = set(con.execute("select dimension, key from dim_metric").fetchall())
    assert mart_columns == [k.key for k in metrics.MART_COLUMNS]
    assert dim_metric == set(expected)
    only_mart = json.loads(disclosure("dictionary", "--json", "--dimension", "mart_column").stdout)
    assert [r["key"] for r in only_mart] == [k.key for k in metrics.MART_COLUMNS]


# --- the analyst connection: read-only, no file but the warehouse, no network, locked ----------------------

def sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest_file(wh) -> Path:
    return next(iter(sorted((wh.paths.archive / "manifest").glob("*.parquet"))))


class Listener:
    """A TCP socket on 127.0.0.1 that counts the connections made to it (none expected)."""

    def __init__(self):
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.5)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def connections(self) -> int:
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return count
            conn.close()
            count += 1

    def close(self):
        self.sock.close()


def engine_refusals(tmp: Path, wh, url: str) -> list[str]:
    """Statements that would write, read outside the warehouse, reach the network or unlock the
    connection, each with its target under tmp (or the raw archive's manifest)."""
    manifest = manifest_file(wh)
    return [
        f"copy (select 1 as x) to '{tmp}/copied.csv'",
        f"copy mart_agency_year to '{manifest}' (format parquet)",
        f"copy mart_agency_year to '{tmp}/copied.parquet' (format parquet)",
        f"export database '{tmp}/exported'",
        "select * from read_csv('/etc/passwd', sep = ':')",
        "select * from read_text('/etc/passwd')",
        "select * from read_blob('/etc/passwd')",
        f"select * from read_parquet('{manifest}')",
        "select * from read_json('/etc/passwd')",
        "select * from glob('/etc/*')",
        "select * from sniff_csv('/etc/passwd')",
        f"select * from parquet_metadata('{manifest}')",
        f"select * from read_csv('{url}/data.csv')",
        f"select * from read_text('{url}/data.txt')",
        "install httpfs",
        "load httpfs",
        "force install httpfs",
        f"attach '{tmp}/other.duckdb' as other",
        f"attach '{wh.database}' as again (read_only false)",
        "set enable_external_access = true",
        "reset enable_external_access",
        "set lock_configuration = false",
        "reset lock_configuration",
        "set autoinstall_known_extensions = true",
        "set autoload_known_extensions = true",
        "set allow_community_extensions = true",
        "set allowed_directories = ['/']",
        f"set temp_directory = '{tmp}'",
        f"pragma profiling_output = '{tmp}/profile.json'",
        "create table scratch as select 1",
        "insert into dim_agency (agency_id) values ('x')",
        "drop table dim_report",
    ]


def test_the_analyst_connection_refuses_everything_but_reading_the_warehouse(demo_warehouse, tmp_path):  # noqa: F811
    from app.analyst import connect_read_only

    before = {p: sha256(p) for p in (demo_warehouse.database, manifest_file(demo_warehouse))}
    listener = Listener()
    try:
        with connect_read_only(demo_warehouse.database) as con:
            for sql in engine_refusals(tmp_path, demo_warehouse, listener.url):
                with pytest.raises(duckdb.Error) as refused:
                    con.execute(sql).fetchall()
                assert "root:" not in str(refused.value), sql
            settings = dict(con.execute(
                "select name, value from duckdb_settings() where name in ('enable_external_access', "
                "'lock_configuration', 'autoinstall_known_extensions', 'autoload_known_extensions', "
                "'allow_community_extensions', 'allow_unsigned_extensions')").fetchall())
            # and after all that it still reads the warehouse
            (reports,) = con.execute("select count(*) from dim_report").fetchone()
        assert listener.connections() == 0, "a statement reached the network"
    finally:
        listener.close()
    assert settings == {"enable_external_access": "false", "lock_configuration": "true",
                        "autoinstall_known_extensions": "false", "autoload_known_extensions": "false",
                        "allow_community_extensions": "false", "allow_unsigned_extensions": "false"}
    assert reports == len(demo_warehouse.reports)
    assert list(tmp_path.iterdir()) == [], "a statement wrote a file"
    assert {p: sha256(p) for p in before} == before
    assert "scratch" not in {r[0] for r in duckdb_tables(demo_warehouse.database)}


def duckdb_tables(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("show tables").fetchall()


def test_query_refuses_each_in_one_line_and_exit_2(demo_warehouse, tmp_path):  # noqa: F811
    db = str(demo_warehouse.database)
    manifest = manifest_file(demo_warehouse)
    before = {p: sha256(p) for p in (demo_warehouse.database, manifest)}
    passwd_first = Path("/etc/passwd").read_text(errors="replace").splitlines()[0]
    listener = Listener()
    try:
        # one of each kind through the command (the test above runs them all on the connection)
        every = engine_refusals(tmp_path, demo_warehouse, listener.url)
        first_of_each = {sql.split()[0]: sql for sql in reversed(every)}.values()
        into_the_archive_or_network = [sql for sql in every if str(manifest) in sql or listener.url in sql]
        for sql in dict.fromkeys([*first_of_each, *into_the_archive_or_network]):
            proc = disclosure("query", sql, "--database", db, check=False)
            assert proc.returncode == 2, (sql, proc.returncode, proc.stdout, proc.stderr)
            assert "Traceback" not in proc.stderr, proc.stderr
            assert proc.stderr.startswith("disclosure query: refused: ") and proc.stderr.count("\n") == 1, \
                (sql, proc.stderr)
            assert proc.stdout == "" and passwd_first not in proc.stderr, (sql, proc.stdout)
        assert listener.connections() == 0, "a statement reached the network"
    finally:
        listener.close()
    assert list(tmp_path.iterdir()) == []
    assert {p: sha256(p) for p in before} == before
    # the exact lines, for the two ways a statement is refused
    proc = disclosure("query", f"copy mart_agency_year to '{manifest}' (format parquet)", "--database", db, check=False)
    assert proc.stderr == ("disclosure query: refused: COPY statement; the warehouse is read-only here "
                           "(only SELECT, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN, PRAGMA, CALL run)\n")
    proc = disclosure("query", "select * from read_csv('/etc/passwd')", "--database", db, check=False)
    assert proc.stderr == ('disclosure query: refused: Permission Error: Cannot access file "/etc/passwd" - '
                           'file system operations are disabled by configuration\n')
    proc = disclosure("query", "select 1; select 2", "--database", db, check=False)
    assert proc.stderr == "disclosure query: refused: give one statement at a time (got 2)\n"


def test_query_errors_in_the_sql_are_one_line(demo_warehouse):  # noqa: F811
    db = str(demo_warehouse.database)
    for sql, line in [("selec 1", 'Parser Error: syntax error at or near "selec"'),
                      ("select * from no_such_table", "Catalog Error: Table with name no_such_table does not exist!")]:
        proc = disclosure("query", sql, "--database", db, check=False)
        assert (proc.returncode, proc.stderr, proc.stdout) == (2, f"disclosure query: {line}\n", ""), proc.stderr


def test_query_still_answers_selects_describe_show_summarize(demo_warehouse):  # noqa: F811
    db = str(demo_warehouse.database)
    for sql in ("select count(*) as n from mart_agency_year", "describe mart_agency_year", "show tables",
                "summarize dim_agency", "from dim_agency select agency_id limit 1",
                "with y as (select distinct report_year from dim_report) select count(*) from y",
                "explain select * from mart_agency_year", "pragma table_info('dim_agency')"):
        proc = disclosure("query", sql, "--database", db)
        assert proc.stderr == "" and "│" in proc.stdout, (sql, proc.stdout, proc.stderr)


def test_readme_questions_run_on_the_locked_connection(demo_warehouse):  # noqa: F811
    from tests.test_readme_questions import readme_queries
    from app.analyst import run_query

    answers = [run_query(demo_warehouse.database, sql) for sql in readme_queries()]
    assert len(answers) == 13
    assert all(columns for columns, _ in answers)
    assert any(rows for _, rows in answers)
    first = readme_queries()[3]                 # question 4: one row per report year
    proc = disclosure("query", first, "--database", str(demo_warehouse.database))
    assert "2014" in proc.stdout and "2024" in proc.stdout, proc.stdout


# --- export: never over an existing file unless --force, never into the data directory, all or nothing -------

def export(db: Path, out: Path | str, *extra: str, fmt: str = "csv") -> subprocess.CompletedProcess:
    return disclosure("export", "--format", fmt, "--output", str(out), "--database", str(db), *extra, check=False)


def assert_refused(proc: subprocess.CompletedProcess, line: str) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert (proc.returncode, proc.stderr, proc.stdout) == (2, f"disclosure export: {line}\n", ""), proc.stderr


def test_export_does_not_overwrite_without_force(demo_warehouse, tmp_path):  # noqa: F811
    out = tmp_path / "mine.csv"
    out.write_text("my own notes\n", encoding="utf-8")
    stamp = out.stat().st_mtime_ns
    assert_refused(export(demo_warehouse.database, out), f"{out} exists: not overwritten (--force replaces it)")
    assert out.read_text(encoding="utf-8") == "my own notes\n" and out.stat().st_mtime_ns == stamp
    proc = export(demo_warehouse.database, out, "--force")
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8").startswith('"agency_id"')
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.csv"]      # no temporary file left
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~current_umask()


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_export_refuses_the_data_directory(demo_warehouse, tmp_path):  # noqa: F811
    db = demo_warehouse.database
    data = db.parent.resolve()
    manifest = manifest_file(demo_warehouse)
    before = {p: sha256(p) for p in (db, manifest)}
    for target in (db, manifest, data / "raw" / "new.csv", data / "parsed" / "x.parquet", data / "export.xlsx"):
        for force in ((), ("--force",)):
            assert_refused(export(db, target, *force, fmt="parquet"),
                           f"refusing to write {target}: it is inside the data directory {data} "
                           f"(write exports somewhere else)")
    # through a symlink to the data directory, and through a relative path
    link = tmp_path / "link"
    link.symlink_to(data, target_is_directory=True)
    assert_refused(export(db, link / "warehouse.duckdb", "--force"),
                   f"refusing to write {link / 'warehouse.duckdb'}: it is inside the data directory {data} "
                   f"(write exports somewhere else)")
    file_link = tmp_path / "to_manifest.parquet"
    file_link.symlink_to(manifest)
    assert_refused(export(db, file_link, "--force"),
                   f"refusing to write {file_link}: it is inside the data directory {data} "
                   f"(write exports somewhere else)")
    relative = os.path.relpath(data / "raw" / "x.csv")
    assert_refused(export(db, relative), f"refusing to write {relative}: it is inside the data directory {data} "
                                         f"(write exports somewhere else)")
    assert {p: sha256(p) for p in before} == before
    assert not (data / "raw" / "new.csv").exists() and not (data / "export.xlsx").exists()
    assert not (data / "raw" / "x.csv").exists()
    assert file_link.is_symlink() and link.is_symlink()


def test_export_refuses_the_configured_data_directory(demo_warehouse, tmp_path):  # noqa: F811
    configured = tmp_path / "configured"
    configured.mkdir()
    proc = subprocess.run([str(DISCLOSURE), "export", "--format", "csv", "--output", str(configured / "x.csv"),
                           "--database", str(demo_warehouse.database)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "DISCLOSURE_DATA_DIR": str(configured)})
    assert_refused(proc, f"refusing to write {configured / 'x.csv'}: it is inside the data directory "
                         f"{configured.resolve()} (write exports somewhere else)")


def test_export_to_a_directory_a_missing_parent_or_a_special_file(demo_warehouse, tmp_path):  # noqa: F811
    db = demo_warehouse.database
    assert_refused(export(db, tmp_path), f"{tmp_path} is a directory: give a file name")
    assert_refused(export(db, tmp_path, "--force"), f"{tmp_path} is a directory: give a file name")
    missing = tmp_path / "no" / "such" / "x.csv"
    assert_refused(export(db, missing), f"cannot write {missing}: no directory {missing.parent} (create it first)")
    assert not (tmp_path / "no").exists()
    plain = tmp_path / "plain.txt"
    plain.write_text("x", encoding="utf-8")
    assert_refused(export(db, plain / "x.csv"), f"cannot write {plain / 'x.csv'}: {plain} is not a directory")
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    assert_refused(export(db, fifo, "--force"), f"{fifo} exists and is not a regular file: not replaced")
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_export_to_an_unwritable_directory(demo_warehouse, tmp_path, monkeypatch, capsys):  # noqa: F811
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.geteuid() != 0:        # root writes anyway: then only the simulation below
            assert_refused(export(demo_warehouse.database, locked / "x.csv"),
                           f"cannot write {locked / 'x.csv'}: Permission denied")
    finally:
        locked.chmod(0o700)
    import tempfile

    from app import cli

    def denied(*_a, **_k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    assert cli.main(["export", "--format", "csv", "--output", str(locked / "x.csv"),
                     "--database", str(demo_warehouse.database)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"disclosure export: cannot write {locked / 'x.csv'}: Permission denied\n"
    assert list(locked.iterdir()) == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_a_failed_export_leaves_the_old_file_and_no_partial_one(demo_warehouse, tmp_path, monkeypatch, capsys, fmt):  # noqa: F811
    import errno

    import pyarrow.csv
    import pyarrow.parquet
    from openpyxl import Workbook

    from app import cli

    def half_then_fail(*args, **_kwargs):
        path = next(a for a in args if isinstance(a, (str, Path)))
        Path(path).write_bytes(b"half a file")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pyarrow.csv, "write_csv", half_then_fail)
    monkeypatch.setattr(pyarrow.parquet, "write_table", half_then_fail)
    monkeypatch.setattr(Workbook, "save", lambda self, path: half_then_fail(path))
    out = tmp_path / f"old.{fmt}"
    out.write_bytes(b"the previous export")
    assert cli.main(["export", "--format", fmt, "--output", str(out), "--force",
                     "--database", str(demo_warehouse.database)]) == 2
    assert capsys.readouterr().err == f"disclosure export: cannot write {out}: No space left on device\n"
    assert out.read_bytes() == b"the previous export"
    assert [p.name for p in tmp_path.iterdir()] == [out.name]
    new = tmp_path / f"new.{fmt}"
    assert cli.main(["export", "--format", fmt, "--output", str(new), "--database", str(demo_warehouse.database)]) == 2
    assert capsys.readouterr().err == f"disclosure export: cannot write {new}: No space left on device\n"
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_report_obeys_the_same_output_rules(demo_warehouse, tmp_path):  # noqa: F811
    db = demo_warehouse.database
    data = db.parent.resolve()
    page = tmp_path / "page.html"
    page.write_text("mine", encoding="utf-8")
    proc = disclosure("report", "--output", str(page), "--database", str(db), "--agency", "qcs", check=False)
    assert (proc.returncode, proc.stderr) == (2, f"disclosure report: {page} exists: not overwritten "
                                                 f"(--force replaces it)\n")
    assert page.read_text(encoding="utf-8") == "mine"
    proc = disclosure("report", "--output", str(data / "page.html"), "--database", str(db), check=False)
    assert (proc.returncode, proc.stderr) == (2, f"disclosure report: refusing to write {data / 'page.html'}: it is "
                                                 f"inside the data directory {data} (write exports somewhere else)\n")
    proc = disclosure("report", "--output", str(tmp_path / "none.html"), "--database", str(db), "--agency", "%",
                      check=False)
    assert (proc.returncode, proc.stderr) == (2, "disclosure report: no rows of mart_agency_year match the filter: "
                                                 "nothing written\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]


# --- filters are literal text ---------------------------------------------------------------------------------

def test_wildcards_in_filters_match_only_themselves(demo_warehouse, tmp_path):  # noqa: F811
    db = demo_warehouse.database
    for i, args in enumerate([["--agency", "%"], ["--agency", "_"], ["--agency", "\\"], ["--agency", "%%"],
                              ["--agency", "青川%"], ["--agency", "' or 1=1 --"], ["--region", "%"],
                              ["--region", "5_"], ["--region", "58\\"], ["--agency", "_", "--region", "%"]]):
        out = tmp_path / f"x{i}.csv"
        proc = export(db, out, *args)
        assert proc.returncode == 0, proc.stderr
        assert "0 rows of mart_agency_year written" in proc.stdout, (args, proc.stdout)
    proc = disclosure("compare", "--agency", "%", "--agency", "_", "--database", str(db))
    assert "青川" not in proc.stdout and "岚州" not in proc.stdout, proc.stdout


def mart_rows(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select agency_id, agency_name, agency_name_as_printed, region_code, report_year "
                           "from mart_agency_year").fetchall()


FILTER_TEXT = st.one_of(
    st.text(alphabet=st.sampled_from(list("%_\\'青川省岚州市人民政府自然资源厅qcslz-0158 ")), max_size=6),
    st.text(max_size=8))


@pytest.fixture
def mart_and_locked_connection(demo_warehouse):  # noqa: F811
    """The mart's rows (read first: one process cannot hold the file under two configurations) and the
    locked analyst connection, open for one test."""
    from app.analyst import connect_read_only

    rows = mart_rows(demo_warehouse.database)
    with connect_read_only(demo_warehouse.database) as con:
        yield rows, con


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(agencies=st.lists(FILTER_TEXT, max_size=3), regions=st.lists(FILTER_TEXT, max_size=2))
def test_filters_match_exactly_a_literal_substring_or_prefix(mart_and_locked_connection, agencies, regions):
    from app.analyst import MartFilter, select_mart

    rows, con = mart_and_locked_connection
    expected = {(a, y) for a, name, printed, region, y in rows
                if (not agencies or any(f == a or f in (name or "") or f in (printed or "") for f in agencies))
                and (not regions or any((region or "").startswith(r) for r in regions))}
    got = select_mart(con, MartFilter(agencies=agencies, regions=regions), ("agency_id", "report_year")).fetchall()
    assert set(got) == expected, (agencies, regions)
    assert len(got) == len(set(got))
