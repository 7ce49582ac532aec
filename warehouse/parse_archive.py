"""The parse stage: raw archive -> parsed Parquet datasets, partitioned by report year.

Each archived body is parsed once per parser version (results cached by its
sha256), so a re-run with nothing new parses nothing. A document that gives
no report is recorded in `quarantine` with the reason; it never stops the run.

Report years are the unit of work: a run rewrites the years whose inputs changed
(new or changed fetches; every year when the parser or the agency registry changed)
and carries the others over from the current version by hard link. A backfill
(`years=`) rewrites exactly the years asked for.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from warehouse import parser_fingerprint
import pyarrow as pa

from warehouse.archive import RawArchive, read_parquet, table_rows
from warehouse.facts import TABLE_DIMENSIONS
from warehouse.metrics import dictionary_rows
from warehouse.schemas import QUARANTINE_SCHEMA, REPORTS_SCHEMA
from warehouse.store import ParsedVersion, current_version, read_version_info, update_version_info

_CORRECTION = re.compile(r"更正|修订版|修正版|更新版|（更正）|\(更正\)")
_TITLE_YEAR = re.compile(r"(20\d\d|19\d\d)\s*年度?")
_TITLE_AGENCY = re.compile(r"^(.*?)(?:20\d\d|19\d\d)\s*年")
_NAME_FIELDS = pa.schema([REPORTS_SCHEMA.field(n) for n in ("agency_id", "agency_name", "report_year", "fetched_at")])
# What a page without figures keeps until it is known whether it is a landing page.
_PAGE_FIELDS = ("era", "report_year", "agency_name", "title", "published_date", "input_kind", "text_sha256", "notes")


@dataclass
class ParseSummary:
    documents: int = 0
    parsed_now: int = 0          # not found in the cache
    reports: int = 0
    facts: int = 0
    failed_checks: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    unchanged: bool = False      # same inputs as the current version: nothing was written
    years_rewritten: list[int] = field(default_factory=list)
    years_carried: list[int] = field(default_factory=list)   # taken over from the previous version as they were
    left_for_full_run: int = 0   # documents of years a backfill was not asked for

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def latest_fetches(archive: RawArchive) -> list[dict]:
    """The newest successful fetch of each URL that may hold a report, by crawl run (oldest run
    first) and by URL within a run. Not by fetch time: the order of fetches inside a run is the
    crawl's concurrency, and the first fetch of a report found at several URLs gives its url, so
    two crawls of one site must give the same order."""
    rows = archive.manifest_rows()
    latest: dict[str, dict] = {}
    run_start: dict[str, object] = {}
    for row in sorted(rows, key=lambda r: r["fetched_at"]):
        run_start.setdefault(row["run_id"], row["fetched_at"])
        if row["kind"] in ("report", "attachment") and row["status"] == 200 and row["sha256"]:
            latest[row["url"]] = row
    return sorted(latest.values(), key=lambda r: (run_start[r["run_id"]], r["run_id"], r["url"]))


def parse_cached(archive: RawArchive, cache_dir: Path, fetch: dict, reparse: bool = False) -> tuple[dict, bool]:
    """The parse JSON of one body, from the cache when this parser version has seen it."""
    from warehouse.parse import parse_bytes  # the parser's imports are only paid when parsing

    cache = cache_dir / f"{fetch['sha256']}.json"
    if cache.exists() and not reparse:
        return json.loads(cache.read_text(encoding="utf-8")), False
    try:
        result = parse_bytes(archive.read(fetch["sha256"]), filename=fetch["final_url"] or fetch["url"],
                             content_type=fetch["content_type"]).to_json()
    except Exception as exc:  # one bad document is a recorded skip, never the run's end
        result = {"status": "failed", "notes": [f"{type(exc).__name__}: {exc}"],
                  "traceback": traceback.format_exc(limit=3), "facts": [], "checks": []}
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    tmp.replace(cache)
    return result, True


def year_from_title(title: str | None) -> int | None:
    m = _TITLE_YEAR.search(title or "")
    return int(m.group(1)) if m else None


def agency_from_title(title: str | None) -> str | None:
    m = _TITLE_AGENCY.match((title or "").strip())
    return m.group(1).strip(" 　-—") or None if m else None


def fact_row(report_id: str, year: int, era: str, fact: dict) -> dict:
    row = {"report_id": report_id, "report_year": year, "era": era, "fact_table": fact["table"],
           "value": float(fact["value"]), "unit": fact.get("unit"),
           "approximate": bool(fact.get("approximate")), "label_zh": fact.get("label_zh"),
           "source": fact.get("source")}
    for dim in TABLE_DIMENSIONS[fact["table"]]:
        row[dim] = fact[dim]
    return row


def inputs_fingerprint(parser_version: str, registry_path, fetches: list[dict]) -> str:
    """What a parse run depends on: the parser, the agency registry and the fetches it reads."""
    digest = hashlib.sha256(parser_version.encode())
    if registry_path and Path(registry_path).exists():
        digest.update(Path(registry_path).read_bytes())
    for fetch in fetches:
        digest.update(json.dumps(fetch, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def file_digest(path) -> str | None:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() if path and Path(path).exists() else None


def report_year_of(fetch: dict, doc: dict) -> int | None:
    return doc.get("report_year") or year_from_title(fetch["link_title"])


def year_index(version_dir: Path) -> dict[str, int | None]:
    """content sha256 -> report year of every document a parsed version placed: reports
    (via report_sources) and quarantined documents (their year, or None)."""
    index: dict[str, int | None] = {}
    fields = pa.schema([("content_sha256", pa.string()), ("report_year", pa.int32())])
    for dataset in ("quarantine", "report_sources"):   # a report's year wins over a quarantine entry
        for part in sorted((version_dir / dataset).rglob("*.parquet")):
            table = read_parquet(part, fields)
            index.update(zip(table.column(0).to_pylist(), table.column(1).to_pylist()))
    return index


def year_fingerprints(fetches: list[dict], year_of: dict[str, int | None]) -> dict[str, str]:
    """One digest per report year over the fetches placed in it: a year whose digest is
    unchanged (same parser and registry) has nothing new to parse."""
    digests: dict[str, hashlib._Hash] = {}
    for fetch in fetches:
        year = year_of.get(fetch["sha256"])
        if year is not None:
            digests.setdefault(str(year), hashlib.sha256()).update(
                json.dumps(fetch, sort_keys=True, default=str).encode())
    return {year: d.hexdigest() for year, d in sorted(digests.items())}


def read_rows(version_dir: Path, dataset: str, schema: pa.Schema, years: set[int]) -> list[dict]:
    """The `schema` columns of a dataset of a parsed version, rows whose report_year is in `years`."""
    rows = []
    for part in sorted((version_dir / dataset).rglob("*.parquet")):
        rows += [r for r in table_rows(read_parquet(part, schema)) if r["report_year"] in years]
    return rows


def parse_archive(archive_dir: str | Path, parsed_dir: str | Path, registry_path: str | Path | None = None,
                  progress=None, force: bool = False, years=None, reparse: bool = False) -> ParseSummary:
    """Parse the archive into a new parsed version (rows streamed to Parquet in batches).

    Only the report years whose inputs changed are rewritten; the others are carried over
    from the current version. Nothing at all is done when the parser, the registry and the
    fetches are those of the current version (unless `force`: every year is rewritten).
    `years` rewrites exactly those years (a backfill); documents found to belong to other
    years are left for the next full run. `reparse` ignores the parse cache for the
    documents processed. `progress(done, total)` is called after each document.
    """
    archive = RawArchive(archive_dir)
    parsed_dir = Path(parsed_dir)
    version = parser_fingerprint()
    cache_dir = parsed_dir / "_cache" / version
    for stale in (parsed_dir / "_cache").glob("*"):   # results of other parser versions are never used
        if stale.name != version:
            shutil.rmtree(stale, ignore_errors=True)
    fetches = latest_fetches(archive)
    inputs = inputs_fingerprint(version, registry_path, fetches)
    current = read_version_info(parsed_dir)
    if years is None and not force and current.get("inputs") == inputs:
        return ParseSummary(**{**current["summary"], "parsed_now": 0, "unchanged": True})

    from warehouse.agencies import AgencyRegistry  # only paid when something is parsed

    registry_digest = file_digest(registry_path)
    previous = current_version(parsed_dir).resolve() if current.get("years") is not None else None
    placed = year_index(previous) if previous else {}
    old_years: dict[str, dict] = current.get("years", {}) if previous else {}
    summary = ParseSummary()
    year_of: dict[str, int | None] = {}   # where this run puts each document

    def cached(fetch: dict) -> dict:
        doc, fresh = parse_cached(archive, cache_dir, fetch, reparse=reparse)
        summary.parsed_now += fresh
        return doc

    # Which years to rewrite (None: all of them).
    if years is not None:
        rewrite: set[int] | None = {int(y) for y in years}
    elif force or not previous:
        rewrite = None
    else:   # a year made by another parser or registry (a backfill may have left one) is made again
        now = year_fingerprints(fetches, placed)
        made_with = {"parser": version, "registry": registry_digest}
        rewrite = {int(y) for y in set(now) | set(old_years)
                   if now.get(y) != old_years.get(y, {}).get("inputs")
                   or any(old_years.get(y, {}).get(k) != v for k, v in made_with.items())}
        for fetch in fetches:   # documents never placed: their year is known only by parsing them
            if fetch["sha256"] not in placed:
                year = year_of[fetch["sha256"]] = report_year_of(fetch, cached(fetch))
                if year is not None:
                    rewrite.add(year)

    if rewrite == set():   # e.g. the first nightly run after a backfill: every year is as it was
        update_version_info(parsed_dir, {"inputs": inputs})
        return ParseSummary(**{**current["summary"], "parsed_now": summary.parsed_now, "unchanged": True,
                               "years_rewritten": [], "years_carried": sorted(int(y) for y in old_years)})

    def processed(fetch: dict) -> bool:
        if rewrite is None or fetch["sha256"] not in placed:
            return True
        year = placed[fetch["sha256"]]
        return year is None or year in rewrite   # documents without a year are always looked at again

    carried = sorted({y for y in placed.values() if y is not None} - (rewrite or set())) if rewrite is not None else []
    registry = AgencyRegistry.from_yaml(registry_path)
    out = ParsedVersion(parsed_dir)
    if carried:
        out.carry_over(previous, carried)
    year_stats: dict[int, dict] = {}
    latest_name: dict[str, tuple] = {}   # agency_id -> (report_year, fetched_at, name) of its latest report

    def name_seen(agency_id: str, year: int, fetched_at, name: str | None) -> None:
        key = (year, str(fetched_at or ""), name)
        if name and key > latest_name.get(agency_id, (0, "", None)):
            latest_name[agency_id] = key

    for row in read_rows(previous, "reports", _NAME_FIELDS, set(carried)) if carried else []:
        registry.resolve(row["agency_name"])   # bodies outside the registry get their ids back
        name_seen(row["agency_id"], row["report_year"], row["fetched_at"], row["agency_name"])
    for row in read_rows(previous, "quarantine", QUARANTINE_SCHEMA, set(carried)) if carried else []:
        out["quarantine"].add(row)
        summary.quarantined[row["reason"]] = summary.quarantined.get(row["reason"], 0) + 1

    seen_sha: set[str] = set()
    report_ids: set[str] = set()
    # Pages without figures wait until every attachment is known: a page whose attachment
    # carries the report is its landing page, not a report.
    deferred: list[tuple[dict, dict]] = []
    referers_with_report: set[str] = set()

    def skip(fetch: dict, reason: str, detail: str = "", year: int | None = None) -> None:
        out["quarantine"].add({"content_sha256": fetch["sha256"], "url": fetch["url"], "report_year": year,
                               "source_id": fetch["source_id"], "reason": reason, "detail": detail[:2000]})
        summary.quarantined[reason] = summary.quarantined.get(reason, 0) + 1

    def add_report(fetch: dict, doc: dict, year: int) -> None:
        notes = "; ".join(doc.get("notes") or [])
        agency_name = doc.get("agency_name") or agency_from_title(doc.get("title") or fetch["link_title"])
        report_id = doc.get("text_sha256") or fetch["sha256"]
        out["report_sources"].add({"report_id": report_id, "report_year": year, "url": fetch["url"],
                                   "final_url": fetch["final_url"], "content_sha256": fetch["sha256"],
                                   "fetched_at": fetch["fetched_at"], "source_id": fetch["source_id"],
                                   "link_title": fetch["link_title"]})
        if report_id in report_ids:      # the same report at another URL
            return
        report_ids.add(report_id)
        agency_id = registry.resolve(agency_name) or f"source-{fetch['source_id']}"
        name_seen(agency_id, year, fetch["fetched_at"], agency_name)
        title = doc.get("title") or fetch["link_title"]
        out["reports"].add({
            "report_id": report_id, "agency_id": agency_id, "agency_name": agency_name,
            "report_year": year, "era": doc["era"], "title": title,
            "published_date": doc.get("published_date"), "url": fetch["url"],
            "content_sha256": fetch["sha256"], "input_kind": doc.get("input_kind"),
            "parser_version": version, "fetched_at": fetch["fetched_at"],
            "source_id": fetch["source_id"],
            "is_correction": bool(_CORRECTION.search(f"{title or ''} {fetch['link_title'] or ''}")),
            "fact_count": len(doc["facts"]), "notes": notes or None,
        })
        out["facts"].extend(fact_row(report_id, year, doc["era"], f) for f in doc["facts"])
        failed = 0
        for check in doc.get("checks", []):
            out["checks"].add({"report_id": report_id, "report_year": year, **check})
            failed += not check["passed"]
        stats = year_stats.setdefault(year, {"reports": 0, "facts": 0, "failed_checks": 0})
        stats["reports"] += 1
        stats["facts"] += len(doc["facts"])
        stats["failed_checks"] += failed

    todo = [fetch for fetch in fetches if processed(fetch)]
    for done, fetch in enumerate(todo, start=1):
        doc = cached(fetch)
        if progress:
            progress(done, len(todo))
        year = year_of[fetch["sha256"]] = report_year_of(fetch, doc)
        if rewrite is not None and year is not None and year not in rewrite:
            year_of[fetch["sha256"]] = None   # not placed: the next full run takes it as new
            summary.left_for_full_run += 1
            continue
        if doc.get("status") in ("unsupported", "failed"):
            skip(fetch, doc["status"], "; ".join(doc.get("notes") or []), year)
        elif not doc.get("era"):
            skip(fetch, "not_a_report", "; ".join(doc.get("notes") or []), year)
        elif year is None:
            skip(fetch, "no_report_year", "; ".join(doc.get("notes") or []))
        elif not doc.get("facts"):
            deferred.append((fetch, {key: doc.get(key) for key in _PAGE_FIELDS} | {"facts": [], "checks": doc.get("checks", [])}))
        else:
            if fetch["kind"] == "attachment" and fetch["referer"]:
                referers_with_report.add(fetch["referer"])
            add_report(fetch, doc, year)
    for fetch, doc in deferred:
        year = year_of[fetch["sha256"]]
        if fetch["url"] in referers_with_report:
            skip(fetch, "landing_page", "the attached document carries the report", year)
        else:
            add_report(fetch, doc, year)

    out["agencies"].extend(registry.rows({agency_id: name for agency_id, (_, _, name) in latest_name.items()}))
    out["metrics"].extend(dictionary_rows())

    # Year bookkeeping: what each year was made from, so the next run can carry it over.
    final_year = {**placed, **year_of} if rewrite is not None else year_of
    fingerprints = year_fingerprints([f for f in fetches if f["sha256"] in final_year], final_year)
    info_years = {}
    for year in sorted({int(y) for y in fingerprints} | set(year_stats)):
        if year in carried:
            entry = dict(old_years.get(str(year), {}))
        else:
            entry = {"reports": 0, "facts": 0, "failed_checks": 0, **year_stats.get(year, {}),
                     "parser": version, "registry": registry_digest}
        info_years[str(year)] = {**entry, "inputs": fingerprints.get(str(year))}
    for stats in info_years.values():
        for key in ("reports", "facts", "failed_checks"):
            setattr(summary, key, getattr(summary, key) + stats[key])
    summary.documents = len({f["sha256"] for f in fetches})
    summary.years_rewritten = sorted(year_stats) if rewrite is None else sorted(rewrite)
    summary.years_carried = carried
    out.commit(info={"inputs": inputs if years is None else None, "years": info_years, "summary": summary.as_dict()})
    return summary
