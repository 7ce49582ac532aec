"""`disclosure scorecard` on a hand-made warehouse (tests/scorecard_fixture.py): the filters, the three
formats read back, the one-line summary, never over an existing file without --force, the warehouse
only read (bytes and mtime unchanged), and each refusal as one line with exit 2."""
from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from app import cli
from app.scorecard import SCORECARD, parse_years
from tests.scorecard_fixture import CARDS, build_scorecard_warehouse

DISCLOSURE = Path(sys.executable).with_name("disclosure")
LABELS = {k.key: k.label_zh for k in SCORECARD.columns}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return build_scorecard_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def old_warehouse(tmp_path_factory) -> Path:
    """A warehouse an older version built: mart_agency_year, no mart_scorecard."""
    return build_scorecard_warehouse(tmp_path_factory.mktemp("old") / "warehouse.duckdb", scorecard=False)


def scorecard(db: Path, *args: str, capsys) -> tuple[int, str, str]:
    code = cli.main(["scorecard", "--db", str(db), *args])
    out, err = capsys.readouterr()
    return code, out, err


def fingerprint(path: Path) -> tuple[str, int, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns, path.stat().st_size


def read_parquet(path: Path):
    """The file as an Arrow table (ParquetFile: pq.read_table would import pandas, seconds of CPU)."""
    return pq.ParquetFile(path).read()


def sql_rows(db: Path, where: str) -> tuple[list[str], list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        cur = con.execute(f"select * from mart_scorecard where {where} order by agency_id, report_year")
        return [d[0] for d in cur.description], cur.fetchall()


# (name, CLI filter arguments, the same filter in SQL, the summary line after "written to <file>: ")
FILTERS = [
    ("everything", [], "true",
     "6 agencies, 3 years (2019-2021), mean score 79.2; on_time 11, late 4, missing 2, date_unknown 1"),
    ("region_name_and_years", ["--region", "岚州", "--years", "2019-2020"],
     "city = '岚州市' and report_year between 2019 and 2020",
     "3 agencies, 2 years (2019-2020), mean score 75.8; on_time 5, late 0, missing 1, date_unknown 0"),
    ("region_code_prefix", ["--region", "58"], "region_code like '58%'",
     "5 agencies, 3 years (2019-2021), mean score 76.4; on_time 9, late 3, missing 2, date_unknown 1"),
    ("level_and_one_year", ["--level", "department", "--year", "2021"],
     "level = 'department' and report_year = 2021",
     "2 agencies, 1 year (2021), mean score 80.0; on_time 0, late 1, missing 0, date_unknown 1"),
    ("county_name_and_level", ["--region", "松溪区", "--level", "county", "--level", "prefecture"],
     "county = '松溪区'",
     "1 agency, 3 years (2019-2021), mean score 66.7; on_time 2, late 0, missing 1, date_unknown 0"),
    ("agency_name_part", ["--agency", "财政局", "--years", "2020"], "agency_id = 'lzs-czj' and report_year = 2020",
     "1 agency, 1 year (2020), mean score 0.0; on_time 0, late 0, missing 1, date_unknown 0"),
]


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "parquet"])
@pytest.mark.parametrize("name,args,where,summary", FILTERS, ids=[f[0] for f in FILTERS])
def test_scorecard_filters_formats_and_summary(warehouse, tmp_path, capsys, fmt, name, args, where, summary):
    columns, expected = sql_rows(warehouse, where)
    assert expected and len(expected) <= len(CARDS)
    out = tmp_path / f"card.{fmt}"
    code, stdout, stderr = scorecard(warehouse, "--output", str(out), *args, capsys=capsys)
    assert (code, stderr) == (0, ""), stderr
    assert stdout == f"{len(expected)} rows of mart_scorecard written to {out}: {summary}\n"
    col = {c: i for i, c in enumerate(columns)}
    keys = [(r[col["agency_id"]], r[col["report_year"]]) for r in expected]
    if fmt == "csv":
        with open(out, newline="", encoding="utf-8") as fh:
            got = list(csv.reader(fh))
        assert got[0] == columns
        assert [(r[0], int(r[col["report_year"]])) for r in got[1:]] == keys
        assert [float(r[col["score"]]) for r in got[1:]] == [r[col["score"]] for r in expected]
        # NULL stays empty, never 0: a missing report has no report_id and no share of figures stated
        for row, want in zip(got[1:], expected):
            for c in ("report_id", "figures_stated_share", "identities_passed", "statements_agree"):
                assert (row[col[c]] == "") == (want[col[c]] is None), (c, row, want)
    elif fmt == "xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(out, read_only=True)
        assert wb.sheetnames == ["评分表", "字段说明"]
        rows = list(wb["评分表"].iter_rows(values_only=True))
        assert list(rows[0]) == [LABELS[c] for c in columns]
        assert {"机构名称", "报告年度", "及时性", "得分"} <= set(rows[0])
        assert [tuple(r) for r in rows[1:]] == expected
        legend = list(wb["字段说明"].iter_rows(values_only=True))
        assert legend[0] == ("字段", "中文名", "English", "说明")
        assert [r[:3] for r in legend[1:]] == [(k.key, k.label_zh, k.label_en) for k in SCORECARD.columns]
        wb.close()
    else:
        table = read_parquet(out)
        assert table.column_names == columns
        assert [tuple(r.values()) for r in table.to_pylist()] == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]        # no temporary file left


def test_the_region_filters_leave_other_provinces_out(warehouse, tmp_path, capsys):
    out = tmp_path / "card.parquet"
    assert scorecard(warehouse, "--output", str(out), "--region", "青川省", capsys=capsys)[0] == 0
    ids = set(read_parquet(out).column("agency_id").to_pylist())
    assert ids == {"qcs", "qcs-jyt", "lzs", "lzs-czj", "sxq"}                # not 白河省's bhs
    # literal text: a LIKE wildcard in a region name matches only itself
    code, stdout, stderr = scorecard(warehouse, "--output", str(tmp_path / "x.csv"), "--region", "%", capsys=capsys)
    assert code == 2 and stderr == "disclosure scorecard: no rows of mart_scorecard match the filter: nothing written\n"


def test_never_overwrites_without_force_and_never_writes_the_warehouse(warehouse, tmp_path, capsys):
    before = fingerprint(warehouse)
    out = tmp_path / "card.csv"
    out.write_text("my own notes\n", encoding="utf-8")
    stamp = fingerprint(out)
    code, stdout, stderr = scorecard(warehouse, "--output", str(out), capsys=capsys)
    assert (code, stdout) == (2, "")
    assert stderr == f"disclosure scorecard: {out} exists: not overwritten (--force replaces it)\n"
    assert fingerprint(out) == stamp
    code, stdout, _ = scorecard(warehouse, "--output", str(out), "--force", "--year", "2019", capsys=capsys)
    assert code == 0 and stdout.startswith(f"6 rows of mart_scorecard written to {out}: ")
    assert out.read_text(encoding="utf-8").startswith('"agency_id","agency_name"')
    for fmt in ("xlsx", "parquet"):
        assert scorecard(warehouse, "--output", str(tmp_path / f"c.{fmt}"), capsys=capsys)[0] == 0
    assert fingerprint(warehouse) == before                     # read only: same bytes, same mtime
    assert sorted(p.name for p in warehouse.parent.iterdir()) == [warehouse.name]      # no .wal, nothing else
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.parquet", "c.xlsx", "card.csv"]


def refusals(tmp: Path, warehouse: Path, old: Path) -> list[tuple[list[str], str]]:
    missing = tmp / "nowhere" / "warehouse.duckdb"
    out = str(tmp / "out" / "card.xlsx")
    return [
        (["--db", str(missing), "--output", out],
         f"no warehouse at {missing}: build it with `disclosure build`, or run `make demo` "
         f"(it writes data/demo/warehouse.duckdb) and pass --database data/demo/warehouse.duckdb"),
        (["--db", str(old), "--output", out],
         f"{old} has no mart_scorecard (a warehouse built by an older version): rebuild it with `disclosure build`"),
        (["--db", str(warehouse), "--output", out, "--level", "city"],
         "unknown level 'city': give one of national, provincial, prefecture, county, township, zone, department"),
        (["--db", str(warehouse), "--output", out, "--region", "59", "--year", "2018"],
         "no rows of mart_scorecard match the filter: nothing written"),
        (["--db", str(warehouse), "--output", str(tmp / "out" / "card.xls")],
         f"cannot tell the format of {tmp / 'out' / 'card.xls'}: give a file name ending in .xlsx, .csv or .parquet"),
        (["--db", str(warehouse), "--output", str(tmp / "out" / "card")],
         f"cannot tell the format of {tmp / 'out' / 'card'}: give a file name ending in .xlsx, .csv or .parquet"),
        (["--db", str(warehouse), "--output", out, "--years", "2021-2019"],
         "--years '2021-2019': give a range of report years such as 2019-2023"),
        (["--db", str(warehouse), "--output", str(warehouse.parent / "card.csv")],
         f"refusing to write {warehouse.parent / 'card.csv'}: it is inside the data directory "
         f"{warehouse.parent.resolve()} (write exports somewhere else)"),
    ]


def test_each_refusal_is_one_line_exit_2_and_writes_nothing(warehouse, old_warehouse, tmp_path, capsys):
    (tmp_path / "out").mkdir()
    before = fingerprint(warehouse), fingerprint(old_warehouse)
    for args, line in refusals(tmp_path, warehouse, old_warehouse):
        code = cli.main(["scorecard", *args])
        out, err = capsys.readouterr()
        assert (code, out, err) == (2, "", f"disclosure scorecard: {line}\n"), args
    assert list((tmp_path / "out").iterdir()) == []
    assert not (tmp_path / "nowhere").exists()                  # a missing warehouse is not created
    assert (fingerprint(warehouse), fingerprint(old_warehouse)) == before
    assert sorted(p.name for p in warehouse.parent.iterdir()) == [warehouse.name]


def test_what_is_not_a_warehouse_is_refused_unopened(tmp_path, capsys):
    import os

    (tmp_path / "wh").mkdir()
    fifo = tmp_path / "wh" / "fifo.duckdb"
    os.mkfifo(fifo)
    text = tmp_path / "wh" / "text.duckdb"
    text.write_text("not a database\n", encoding="utf-8")
    out = tmp_path / "card.csv"
    for db, line in ((fifo, f"{fifo} is not a regular file: refused"),
                     (tmp_path / "wh", f"{tmp_path / 'wh'} is a directory, not a warehouse file (give the .duckdb file)")):
        assert scorecard(db, "--output", str(out), capsys=capsys) == (2, "", f"disclosure scorecard: {line}\n")
    code, stdout, stderr = scorecard(text, "--output", str(out), capsys=capsys)
    assert (code, stdout) == (2, "") and stderr.startswith(f"disclosure scorecard: cannot open the warehouse {text}: ")
    assert stderr.count("\n") == 1 and text.read_text(encoding="utf-8") == "not a database\n"
    assert not out.exists()


def test_parse_years():
    assert parse_years("2019-2023") == (2019, 2023)
    assert parse_years("2021") == (2021, 2021)
    assert parse_years(" 2019 - 2020 ") == (2019, 2020)
    for bad in ("2019-", "19-20", "2019-2020-2021", "二〇一九", "2020-2019", ""):
        with pytest.raises(cli.UserError):
            parse_years(bad)


@pytest.mark.slow  # runs the installed command in subprocesses
def test_the_command_exit_codes(warehouse, old_warehouse, tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(DISCLOSURE), "scorecard", *args], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)

    out = tmp_path / "card.xlsx"
    proc = run("--database", str(warehouse), "--output", str(out), "--years", "2020-2021", "--region", "5801")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert proc.stdout.startswith(f"6 rows of mart_scorecard written to {out}: 3 agencies, 2 years (2020-2021)")
    proc = run("--db", str(old_warehouse), "--output", str(tmp_path / "x.csv"))
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "rebuild it with `disclosure build`" in proc.stderr
    proc = run("--db", str(warehouse), "--output", str(tmp_path / "x.csv"), "--year", "2020", "--years", "2019-2020")
    assert proc.returncode == 2 and "not allowed with argument" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["card.xlsx"]
