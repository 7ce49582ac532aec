"""A small hand-made warehouse with issue 15's models (mart_scorecard, mart_report_timeliness,
fct_report_changes, mart_reconciliation) beside a mart_agency_year, written straight with DuckDB
(no parse, no build): the analyst side is tested on it without waiting for a demo build.

Bodies of 青川省 (58) and its 岚州市 (5801), plus one of 白河省 (59) that region filters must leave
out, over the report years 2019-2021. Every number below is the answer of a test.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from warehouse.metrics import MART_COLUMNS

# agency_id: (agency_name, level, region_code, province, city, county, parent_agency_id)
AGENCIES = {
    "qcs": ("青川省人民政府", "provincial", "580000", "青川省", None, None, None),
    "qcs-jyt": ("青川省教育厅", "department", "580000", "青川省", None, None, "qcs"),
    "lzs": ("岚州市人民政府", "prefecture", "580100", "青川省", "岚州市", None, "qcs"),
    "lzs-czj": ("岚州市财政局", "department", "580100", "青川省", "岚州市", None, "lzs"),
    "sxq": ("岚州市松溪区人民政府", "county", "580102", "青川省", "岚州市", "松溪区", "lzs"),
    "bhs": ("白河省人民政府", "provincial", "590000", "白河省", None, None, None),
}
YEARS = (2019, 2020, 2021)

# (agency, year): (status, published_date, date_source, sections_present, identities_passed, checks_passed,
#                  checks_run, statements_agree, figures_stated_share, score)
# Sections expected: 6 in the 2019-2020 reports (table_2019), 6 in 2021 (table_2021).
CARDS = {
    ("qcs", 2019): ("on_time", "2020-03-20", "page_field", 6, True, 12, 12, True, 1.0, 100.0),
    ("qcs", 2020): ("on_time", "2021-03-25", "page_field", 6, True, 12, 12, True, 0.95, 98.5),
    ("qcs", 2021): ("late", "2022-04-15", "page_field", 6, True, 12, 12, True, 1.0, 80.0),
    ("qcs-jyt", 2019): ("on_time", "2020-01-20", "url_path", 6, True, 12, 12, True, 0.9, 97.0),
    ("qcs-jyt", 2020): ("late", "2021-02-10", "page_field", 5, False, 10, 12, False, 0.8, 55.5),
    ("qcs-jyt", 2021): ("date_unknown", None, None, 6, True, 12, 12, True, 1.0, 90.0),
    ("lzs", 2019): ("on_time", "2020-03-31", "signed_date", 6, True, 12, 12, None, 0.85, 94.0),
    ("lzs", 2020): ("on_time", "2021-03-01", "first_crawl", 6, False, 11, 12, True, 0.9, 86.0),
    ("lzs", 2021): ("on_time", "2022-03-30", "page_field", 6, True, 12, 12, True, 1.0, 100.0),
    ("lzs-czj", 2019): ("on_time", "2020-01-31", "page_field", 6, None, 0, 0, None, 0.5, 75.0),
    ("lzs-czj", 2020): ("missing", None, None, 0, None, 0, 0, None, None, 0.0),
    ("lzs-czj", 2021): ("late", "2022-03-02", "url_path", 6, True, 12, 12, True, 0.7, 70.0),
    ("sxq", 2019): ("on_time", "2020-02-14", "page_field", 6, True, 12, 12, True, 1.0, 100.0),
    ("sxq", 2020): ("on_time", "2021-03-12", "page_field", 6, True, 12, 12, True, 1.0, 100.0),
    ("sxq", 2021): ("missing", None, None, 0, None, 0, 0, None, None, 0.0),
    ("bhs", 2019): ("on_time", "2020-03-01", "page_field", 6, True, 12, 12, True, 1.0, 100.0),
    ("bhs", 2020): ("late", "2021-05-06", "page_field", 6, True, 12, 12, True, 1.0, 80.0),
    ("bhs", 2021): ("on_time", "2022-02-27", "page_field", 6, True, 12, 12, True, 1.0, 100.0),
}

# fct_report_changes: lzs 2020 silently edited in place; qcs-jyt 2020 republished as 更正版 at a new URL
CHANGES = [
    ("lzs", 2020, "requests", "requests/received_new/total", 120.0, 128.0, "r-lzs-2020-a", "r-lzs-2020-b",
     "2021-03-01 08:00:00", "2021-06-10 08:00:00", "http://127.0.0.1:8765/lzs/zfxxgknb/202103/t20210301_7.html",
     "changed", False),
    ("lzs", 2020, "reviews", "reviews/reconsideration/corrected", 1.0, 2.0, "r-lzs-2020-a", "r-lzs-2020-b",
     "2021-03-01 08:00:00", "2021-06-10 08:00:00", "http://127.0.0.1:8765/lzs/zfxxgknb/202103/t20210301_7.html",
     "changed", False),
    ("qcs-jyt", 2020, "proactive", "proactive/normative_documents/newly_made", None, 4.0, "r-jyt-2020-a",
     "r-jyt-2020-b", "2021-02-10 09:00:00", "2021-04-02 09:00:00",
     "http://127.0.0.1:8765/qcs-jyt/zfxxgknb/202104/t20210402_9.html", "added", True),
]

# mart_reconciliation: (parent, year, measure, parent_value, children_sum, reporting, expected, status)
RECONCILIATION = [
    ("qcs", 2019, "requests_received", 300.0, 300.0, 2, 2, "match"),
    ("qcs", 2020, "requests_received", 310.0, 290.0, 2, 2, "mismatch"),
    ("lzs", 2019, "requests_received", 75.0, 75.0, 2, 2, "match"),
    ("lzs", 2020, "requests_received", 80.0, 41.0, 1, 2, "incomplete"),
    ("lzs", 2021, "lawsuits_total", 5.0, 3.0, 1, 1, "mismatch"),
    ("lzs", 2021, "requests_received", None, 60.0, 1, 1, "no_parent_value"),
]


def deadline(level: str, year: int) -> dt.date:
    return dt.date(year + 1, 1, 31) if level == "department" else dt.date(year + 1, 3, 31)


def _mart_type(key: str) -> str:
    if key in ("agency_id", "agency_name", "level", "region_code", "era", "report_id", "agency_name_as_printed"):
        return "VARCHAR"
    return {"report_year": "INTEGER", "grant_rate": "DOUBLE", "failed_any_check": "BOOLEAN",
            "failed_checks": "VARCHAR[]"}.get(key, "BIGINT")


def build_scorecard_warehouse(path: Path, scorecard: bool = True) -> Path:
    """The warehouse file at path; with scorecard False, as an older version built it (no issue-15 models)."""
    import duckdb

    with duckdb.connect(str(path)) as con:
        con.execute("create table mart_agency_year (" + ", ".join(
            f"{k.key} {_mart_type(k.key)}" for k in MART_COLUMNS) + ")")
        for (agency, year), card in CARDS.items():
            if card[0] == "missing":
                continue
            name, level, region = AGENCIES[agency][:3]
            values = {k.key: None for k in MART_COLUMNS}
            values.update(agency_id=agency, agency_name=name, level=level, region_code=region, report_year=year,
                          era="table_2021" if year >= 2021 else "table_2019", report_id=f"r-{agency}-{year}",
                          agency_name_as_printed=name, requests_received=10 * (year - 2018) + len(agency),
                          granted_full=5, failed_any_check=card[4] is False,
                          failed_checks=["requests_total"] if card[4] is False else [])
            con.execute(f"insert into mart_agency_year values ({', '.join('?' for _ in values)})", list(values.values()))
        if not scorecard:
            return path
        con.execute("""create table mart_report_timeliness (agency_id VARCHAR, agency_name VARCHAR, level VARCHAR,
            region_code VARCHAR, province VARCHAR, report_year INTEGER, regulation VARCHAR, deadline DATE,
            report_id VARCHAR, url VARCHAR, published_date DATE, date_source VARCHAR, first_seen_at TIMESTAMP,
            days_late INTEGER, status VARCHAR)""")
        con.execute("""create table mart_scorecard (agency_id VARCHAR, agency_name VARCHAR, level VARCHAR,
            region_code VARCHAR, province VARCHAR, city VARCHAR, county VARCHAR, report_year INTEGER,
            report_id VARCHAR, timeliness_status VARCHAR, published_on_time BOOLEAN, sections_present INTEGER,
            sections_expected INTEGER, identities_passed BOOLEAN, checks_passed INTEGER, checks_run INTEGER,
            statements_agree BOOLEAN, figures_stated_share DOUBLE, score DOUBLE)""")
        for (agency, year), card in CARDS.items():
            name, level, region, province, city, county, _ = AGENCIES[agency]
            status, published, source, sections, identities, passed, run, agree, share, score = card
            report_id = None if status == "missing" else f"r-{agency}-{year}"
            due = deadline(level, year)
            published_date = dt.date.fromisoformat(published) if published else None
            days_late = (published_date - due).days if published_date and source != "first_crawl" else None
            url = None if report_id is None else f"http://127.0.0.1:8765/{agency}/zfxxgknb/{year + 1}/report.html"
            seen = None if report_id is None else dt.datetime(2026, 1, 1, 8, 0)
            con.execute("insert into mart_report_timeliness values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [agency, name, level, region, province, year, "2019", due, report_id, url, published_date,
                         source, seen, days_late, status])
            on_time = None if status == "date_unknown" else status == "on_time"
            con.execute("insert into mart_scorecard values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [agency, name, level, region, province, city, county, year, report_id, status, on_time,
                         sections, 6, identities, passed, run, agree, share, score])
        con.execute("""create table fct_report_changes (agency_id VARCHAR, report_year INTEGER, fact_table VARCHAR,
            fact_key VARCHAR, old_value DOUBLE, new_value DOUBLE, old_report_id VARCHAR, new_report_id VARCHAR,
            old_first_seen_at TIMESTAMP, new_first_seen_at TIMESTAMP, url VARCHAR, change VARCHAR,
            new_is_correction BOOLEAN)""")
        con.executemany("insert into fct_report_changes values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", CHANGES)
        con.execute("""create table mart_reconciliation (parent_agency_id VARCHAR, parent_name VARCHAR,
            report_year INTEGER, measure VARCHAR, parent_value DOUBLE, children_sum DOUBLE,
            children_reporting INTEGER, children_expected INTEGER, difference DOUBLE, status VARCHAR)""")
        for parent, year, measure, value, total, reporting, expected, status in RECONCILIATION:
            difference = None if value is None else value - total
            con.execute("insert into mart_reconciliation values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [parent, AGENCIES[parent][0], year, measure, value, total, reporting, expected, difference,
                         status])
        con.execute("create table dim_agency as select agency_id, agency_name from (values " + ", ".join(
            f"('{a}', '{v[0]}')" for a, v in AGENCIES.items()) + ") t(agency_id, agency_name)")
    return path
