"""The analyst commands on a small demo warehouse: export (csv, xlsx, parquet) with filters, compare,
read-only query, and the data dictionary."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from demo_portal.agencies import BY_ID
from warehouse import metrics
from tests.warehouse_fixture import demo_warehouse  # noqa: F401  (session fixture)

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
        assert reports == len(demo_warehouse.reports) == 76
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
