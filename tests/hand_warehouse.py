"""A small warehouse built from hand-made parsed rows (no archive, no parser): the tests of the
timeliness, versions and reconciliation models state each case in a line and build it with the
real SQL models and contracts (warehouse.stages.build)."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from warehouse.metrics import dictionary_rows
from warehouse.storage.parsed import write_datasets

UTC = dt.timezone.utc
BASE = "http://127.0.0.1:8799"


def at(text: str) -> dt.datetime:
    """'2021-03-30 17:00' (UTC) as a datetime."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Agency:
    agency_id: str
    name: str
    level: str | None
    parent: str | None = None
    in_registry: bool = True
    established: int | None = None
    abolished: int | None = None
    names: list[str] = field(default_factory=list)
    region_code: str = "580123"   # dim_agency infers a department's parent: the government of its region

    def row(self) -> dict:
        return {"agency_id": self.agency_id, "agency_name": self.name, "names": self.names or [self.name],
                "level": self.level, "region_code": self.region_code, "province": "青川省", "city": "岚州市",
                "county": None, "parent_agency_id": self.parent, "in_registry": self.in_registry,
                "established": self.established, "abolished": self.abolished}


@dataclass
class Report:
    """One parsed report and the fetches of its URLs: `fetches` are (url path, first, last) with
    times as at() strings; `facts` (table, dim_1, dim_2, value); `checks` (check name, passed)."""
    tag: str
    agency_id: str
    year: int
    fetches: list[tuple[str, str, str]]
    era: str = "table_2021"
    published: str | None = None
    source: str | None = None
    correction: bool = False
    facts: list[tuple[str, str, str, float]] = field(default_factory=list)
    checks: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def report_id(self) -> str:
        return hashlib.sha256(self.tag.encode()).hexdigest()

    def rows(self) -> dict[str, list[dict]]:
        url = BASE + sorted(self.fetches)[0][0]
        first = min(at(f) for _, f, _ in self.fetches)
        report = {"report_id": self.report_id, "agency_id": self.agency_id, "agency_name": self.agency_id,
                  "report_year": self.year, "era": self.era, "title": f"{self.year}年政府信息公开工作年度报告",
                  "published_date": self.published, "published_date_source": self.source, "url": url,
                  "content_sha256": self.report_id, "input_kind": "html", "parser_version": "test",
                  "fetched_at": first, "source_id": "hand", "is_correction": self.correction,
                  "fact_count": len(self.facts), "notes": None}
        sources = [{"report_id": self.report_id, "report_year": self.year, "url": BASE + path, "final_url": BASE + path,
                    "content_sha256": self.report_id, "fetched_at": at(first_at), "source_id": "hand",
                    "link_title": None, "last_fetched_at": at(last_at)} for path, first_at, last_at in self.fetches]
        dims = {"requests": ("row", "applicant"), "reviews": ("proceeding", "result"),
                "proactive": ("item_type", "measure")}
        facts = [{"report_id": self.report_id, "report_year": self.year, "era": self.era, "fact_table": table,
                  dims[table][0]: d1, dims[table][1]: d2, "value": float(value), "unit": None,
                  "approximate": False, "label_zh": None, "source": "table3!r1c1"}
                 for table, d1, d2, value in self.facts]
        checks = [{"report_id": self.report_id, "report_year": self.year, "check_name": name, "passed": passed,
                   "expected": None, "actual": None, "detail": ""} for name, passed in self.checks]
        return {"reports": [report], "report_sources": sources, "facts": facts, "checks": checks}


def write_parsed(parsed_dir: Path, agencies: list[Agency], reports: list[Report]) -> Path:
    """Write the rows as a new parsed version (made current) under parsed_dir."""
    rows: dict[str, list[dict]] = {"reports": [], "report_sources": [], "facts": [], "checks": []}
    for report in reports:
        for dataset, more in report.rows().items():
            rows[dataset] += more
    rows["agencies"] = [a.row() for a in agencies]
    rows["metrics"] = dictionary_rows()
    return write_datasets(parsed_dir, rows)


def build(root: Path, agencies: list[Agency], reports: list[Report]) -> Path:
    """Write the rows as a parsed version under root/parsed and build root/wh.duckdb from it."""
    from warehouse.stages.build import build_warehouse

    write_parsed(root / "parsed", agencies, reports)
    build_warehouse(root / "parsed", root / "wh.duckdb")
    return root / "wh.duckdb"


def query(db: Path, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def as_dicts(db: Path, sql: str, params=()) -> list[dict]:
    with duckdb.connect(str(db), read_only=True) as con:
        cur = con.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]
