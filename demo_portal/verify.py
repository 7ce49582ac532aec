"""Compare parsed figures with the answer key: used by the tests and `python -m demo_portal verify`."""
from __future__ import annotations

from pathlib import Path

DIMS = {"requests": ("row", "applicant"), "reviews": ("proceeding", "result"), "proactive": ("item_type", "measure")}


def fact_key(fact: dict) -> tuple[str, str, str]:
    d1, d2 = DIMS[fact["table"]]
    return fact["table"], fact[d1], fact[d2]


def expected_facts(report: dict) -> dict[tuple[str, str, str], float]:
    return {fact_key(f): float(f["value"]) for f in report["facts"]}


def diff_facts(expected: dict, got: dict) -> dict:
    """{'missing_or_wrong': {key: (want, got)}, 'extra': {key: got}}, empty lists when equal."""
    wrong = {k: (v, got.get(k)) for k, v in expected.items() if got.get(k) != v}
    extra = {k: v for k, v in got.items() if k not in expected}
    return {"missing_or_wrong": wrong, "extra": extra} if wrong or extra else {}


def report_file(portal_dir: Path, report: dict) -> Path:
    """The served file of a report's first URL."""
    relative = report["urls"][0].split("}", 1)[-1].lstrip("/")
    return portal_dir / "site" / relative


# Issue 14's formats (OCR, spreadsheets): scored apart, as figure accuracy (verify_formats).
SCORED_APART = ("scanned_pdf", "image_html")


def verify_portal_parse(portal_dir: Path, key: dict) -> dict[str, dict]:
    """Parse every report file of the portal directly (no crawl); returns the differences by file.
    Image-only reports (SCORED_APART) are left to verify_formats."""
    from warehouse.parse import parse_file

    problems = {}
    for report in key["reports"]:
        if report.get("format") in SCORED_APART:
            continue
        path = report_file(portal_dir, report)
        parsed = parse_file(path)
        got = {fact_key(f): float(f["value"]) for f in (x.to_json() for x in parsed.facts)}
        diff = diff_facts(expected_facts(report), got)
        if parsed.report_year != report["report_year"]:
            diff["report_year"] = (report["report_year"], parsed.report_year)
        if parsed.era != report["era"]:
            diff["era"] = (report["era"], parsed.era)
        if diff:
            problems[str(path.relative_to(portal_dir))] = diff
    return problems


def figure_accuracy(expected: dict, got: dict) -> tuple[int, int, int]:
    """(figures right, figures expected, figures read that the report does not state)."""
    right = sum(1 for k, v in expected.items() if k in got and abs(got[k] - v) < 1e-6)
    return right, len(expected), sum(1 for k in got if k not in expected)


def verify_formats(portal_dir: Path, key: dict) -> list[str]:
    """One line per report in another format than an HTML page or a text PDF (answer key `format`):
    figures right / expected when its file is parsed directly (a 图片版 page's images are read only
    through the crawl: its line says so when the page alone gives nothing)."""
    from warehouse.parse import parse_file

    lines = []
    for report in key["reports"]:
        if report.get("format") in ("html", "pdf"):
            continue
        path = report_file(portal_dir, report)
        try:
            parsed = parse_file(path)
            got = {fact_key(f): float(f["value"]) for f in (x.to_json() for x in parsed.facts)}
        except Exception as exc:  # noqa: BLE001 - a reader missing or failing is what this line reports
            got, note = {}, f" ({type(exc).__name__}: {str(exc)[:80]})"
        else:
            note = "" if got else " (nothing read)"
        right, total, extra = figure_accuracy(expected_facts(report), got)
        lines.append(f"{report['format']} {report['agency_id']} {report['report_year']}: figures right "
                     f"{right}/{total} ({right / total:.1%}), {extra} extra{note}")
    return lines


def warehouse_format_lines(con, key: dict) -> list[str]:
    """Figure accuracy of the other-format reports in the built warehouse (current versions)."""
    queries = {"requests": 'select "row", applicant, value from fct_requests',
               "reviews": "select proceeding, result, value from fct_reviews",
               "proactive": "select item_type, measure, value from fct_proactive_disclosure"}
    lines = []
    for report in key["reports"]:
        if report.get("format") in ("html", "pdf"):
            continue
        got = {}
        for table, sql in queries.items():
            try:
                rows = con.execute(sql + " where is_current and agency_id = ? and report_year = ?",
                                   [report["agency_id"], report["report_year"]]).fetchall()
            except Exception:  # noqa: BLE001 - a table absent: nothing read
                rows = []
            got.update({(table, a, b): float(v) for a, b, v in rows if v is not None})
        right, total, extra = figure_accuracy(expected_facts(report), got)
        lines.append(f"warehouse, {report['format']} {report['agency_id']} {report['report_year']}: figures right "
                     f"{right}/{total} ({right / total:.1%}), {extra} extra" + ("" if got else " (not in the warehouse)"))
    return lines


# ---------------------------------------------------------------- the built warehouse (issue 15's lists)

WAREHOUSE_TABLES = {"timeliness": "mart_report_timeliness", "changes": "fct_report_changes",
                    "reconciliation": "mart_reconciliation"}


def _text(value) -> str | None:
    """Dates and numbers as the answer key writes them (ISO dates; 3.0 -> 3)."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) < 1e-6
    return _text(a) == _text(b)


def _key_of_change(row: dict) -> tuple[str, str, str]:
    """(table, dim 1, dim 2) of a change row: fact_key may be `table/d1/d2`, `era/table/d1/d2` or `d1/d2`."""
    parts = str(row.get("fact_key") or "").split("/")
    table = row.get("fact_table") or (parts[-3] if len(parts) >= 3 else "")
    d1, d2 = parts[-2:] if len(parts) >= 2 else ("", "")
    return str(table), d1, d2


def _rows(con, table: str) -> list[dict] | None:
    exists = con.execute("select count(*) from information_schema.tables where table_name = ?", [table]).fetchone()[0]
    if not exists:
        return None
    cur = con.execute(f'select * from "{table}"')
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


class Score:
    """Right / wrong / absent counts of one field, with the first few differences."""

    def __init__(self, name: str):
        self.name, self.right, self.wrong, self.examples = name, 0, 0, []

    def add(self, ok: bool, example: str) -> None:
        if ok:
            self.right += 1
        else:
            self.wrong += 1
            if len(self.examples) < 3:
                self.examples.append(example)

    def line(self) -> str:
        text = f"{self.name} {self.right}/{self.right + self.wrong}"
        return text + (f" (e.g. {'; '.join(self.examples)})" if self.examples else "")


def score_timeliness(key: list[dict], rows: list[dict]) -> tuple[list[Score], int, int]:
    """Scores of status, deadline, published_date, date_source; rows absent; rows of the key's agencies
    for years the key does not expect (before it was established, after it was abolished)."""
    got = {(r["agency_id"], int(r["report_year"])): r for r in rows}
    scores = [Score(f) for f in ("status", "deadline", "published_date", "date_source")]
    absent = 0
    for want in key:
        where = f"{want['agency_id']} {want['report_year']}"
        row = got.pop((want["agency_id"], want["report_year"]), None)
        if row is None:
            absent += 1
            scores[0].add(False, f"{where}: no row (want {want['status']})")
            continue
        for score in scores:
            score.add(_same(want[score.name], row.get(score.name)),
                      f"{where}: {score.name} {_text(row.get(score.name))} != {_text(want[score.name])}")
    in_key = {want["agency_id"] for want in key}  # years the key's bodies were not expected (created later …)
    extra = sum(1 for (agency_id, _) in got if agency_id in in_key)
    return scores, absent, extra


def score_changes(key: list[dict], rows: list[dict]) -> tuple[list[Score], int]:
    """Scores of each planted change (found, old and new values), and rows no planted change explains."""
    got = {}
    for r in rows:
        got.setdefault((r["agency_id"], int(r["report_year"]), *_key_of_change(r)), []).append(r)
    scores = [Score(f) for f in ("found", "old_value", "new_value")]
    for want in key:
        table, d1, d2 = want["fact_key"].split("/")
        where = f"{want['agency_id']} {want['report_year']} {want['fact_key']}"
        found = got.pop((want["agency_id"], want["report_year"], table, d1, d2), [])
        scores[0].add(bool(found), f"{where}: no row")
        if found:
            scores[1].add(any(_same(r.get("old_value"), want["old_value"]) for r in found), f"{where}: old_value")
            scores[2].add(any(_same(r.get("new_value"), want["new_value"]) for r in found), f"{where}: new_value")
    return scores, sum(len(v) for v in got.values())


def score_reconciliation(key: list[dict], rows: list[dict]) -> list[Score]:
    got = {(r["parent_agency_id"], int(r["report_year"]), r["measure"]): r for r in rows}
    scores = [Score(f) for f in ("found", "parent_value", "children_sum", "status")]
    for want in key:
        where = f"{want['parent_agency_id']} {want['report_year']} {want['measure']}"
        row = got.get((want["parent_agency_id"], want["report_year"], want["measure"]))
        scores[0].add(row is not None, f"{where}: no row")
        if row is not None:
            for score in scores[1:]:
                score.add(_same(row.get(score.name), want[score.name]),
                          f"{where}: {score.name} {_text(row.get(score.name))} != {_text(want[score.name])}")
    return scores


def verify_warehouse(database: Path, key: dict) -> tuple[list[str], bool]:
    """One line per list of the answer key scored against its warehouse table (a table absent: one line
    saying so). Returns (lines, every scored field right)."""
    import duckdb

    lines, ok = [], True
    with duckdb.connect(str(database), read_only=True) as con:
        for name, table in WAREHOUSE_TABLES.items():
            if name not in key:
                continue
            rows = _rows(con, table)
            if rows is None:
                lines.append(f"{table}: not in the warehouse ({database}); {len(key[name])} {name} entries not scored")
                ok = False
                continue
            if name == "timeliness":
                scores, absent, extra = score_timeliness(key[name], rows)
                tail = f"; {absent} absent, {extra} rows for years the key does not expect"
                ok &= not extra
            elif name == "changes":
                scores, extra = score_changes(key[name], rows)
                tail = f"; {extra} changed figures beyond the key"
                ok &= not extra
            else:
                scores, tail = score_reconciliation(key[name], rows), ""
            ok &= all(s.wrong == 0 for s in scores)
            lines.append(f"{table}: " + ", ".join(s.line() for s in scores) + tail)
        lines += warehouse_format_lines(con, key)
    return lines, ok
