"""The parse stage: raw archive -> parsed Parquet datasets.

Each archived body is parsed once per parser version (results cached by its
sha256), so a re-run with nothing new parses nothing. A document that gives
no report is recorded in `quarantine` with the reason; it never stops the run.
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
from warehouse.agencies import AgencyRegistry
from warehouse.archive import RawArchive
from warehouse.facts import TABLE_DIMENSIONS
from warehouse.metrics import dictionary_rows
from warehouse.store import ParsedVersion, read_version_info

_CORRECTION = re.compile(r"更正|修订版|修正版|更新版|（更正）|\(更正\)")
_TITLE_YEAR = re.compile(r"(20\d\d|19\d\d)\s*年度?")
_TITLE_AGENCY = re.compile(r"^(.*?)(?:20\d\d|19\d\d)\s*年")


@dataclass
class ParseSummary:
    documents: int = 0
    parsed_now: int = 0          # not found in the cache
    reports: int = 0
    facts: int = 0
    failed_checks: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    unchanged: bool = False      # same inputs as the current version: nothing was written

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def latest_fetches(archive: RawArchive) -> list[dict]:
    """The newest successful fetch of each URL that may hold a report, oldest first."""
    rows = archive.read_manifest().to_pylist()
    latest: dict[str, dict] = {}
    for row in sorted(rows, key=lambda r: r["fetched_at"]):
        if row["kind"] in ("report", "attachment") and row["status"] == 200 and row["sha256"]:
            latest[row["url"]] = row
    return sorted(latest.values(), key=lambda r: (r["fetched_at"], r["url"]))


def parse_cached(archive: RawArchive, cache_dir: Path, fetch: dict) -> tuple[dict, bool]:
    """The parse JSON of one body, from the cache when this parser version has seen it."""
    from warehouse.parse import parse_bytes  # the parser's imports are only paid when parsing

    cache = cache_dir / f"{fetch['sha256']}.json"
    if cache.exists():
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


def parse_archive(archive_dir: str | Path, parsed_dir: str | Path, registry_path: str | Path | None = None,
                  progress=None, force: bool = False) -> ParseSummary:
    """Parse every archived report (one pass, rows streamed to Parquet in batches).

    `progress(done, total)` is called after each document. When the parser, the registry
    and the fetches are those of the current version, nothing is parsed or written (unless `force`).
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
    if not force and current.get("inputs") == inputs:
        return ParseSummary(**{**current["summary"], "parsed_now": 0, "unchanged": True})
    registry = AgencyRegistry.from_yaml(registry_path)
    summary = ParseSummary()
    out = ParsedVersion(parsed_dir)
    seen_sha: set[str] = set()
    report_ids: set[str] = set()
    latest_name: dict[str, str] = {}
    # Pages without figures wait until every attachment is known: a page whose attachment
    # carries the report is its landing page, not a report.
    deferred: list[tuple[dict, dict]] = []
    referers_with_report: set[str] = set()

    def skip(fetch: dict, reason: str, detail: str = "") -> None:
        out["quarantine"].add({"content_sha256": fetch["sha256"], "url": fetch["url"],
                               "source_id": fetch["source_id"], "reason": reason, "detail": detail[:2000]})
        summary.quarantined[reason] = summary.quarantined.get(reason, 0) + 1

    def add_report(fetch: dict, doc: dict) -> None:
        notes = "; ".join(doc.get("notes") or [])
        year = doc.get("report_year") or year_from_title(fetch["link_title"])
        if year is None:
            skip(fetch, "no_report_year", notes)
            return
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
        latest_name[agency_id] = agency_name or latest_name.get(agency_id)
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
        for check in doc.get("checks", []):
            out["checks"].add({"report_id": report_id, "report_year": year, **check})
            summary.failed_checks += not check["passed"]
        summary.reports += 1
        summary.facts += len(doc["facts"])

    for done, fetch in enumerate(fetches, start=1):
        doc, fresh = parse_cached(archive, cache_dir, fetch)
        summary.parsed_now += fresh
        if fetch["sha256"] not in seen_sha:
            seen_sha.add(fetch["sha256"])
            summary.documents += 1
        if progress:
            progress(done, len(fetches))
        if doc.get("status") in ("unsupported", "failed"):
            skip(fetch, doc["status"], "; ".join(doc.get("notes") or []))
        elif not doc.get("era"):
            skip(fetch, "not_a_report", "; ".join(doc.get("notes") or []))
        elif not doc.get("facts"):
            deferred.append((fetch, {"era": doc["era"], "report_year": doc.get("report_year"),
                                     "agency_name": doc.get("agency_name"), "title": doc.get("title"),
                                     "published_date": doc.get("published_date"), "input_kind": doc.get("input_kind"),
                                     "text_sha256": doc.get("text_sha256"), "notes": doc.get("notes"),
                                     "facts": [], "checks": doc.get("checks", [])}))
        else:
            if fetch["kind"] == "attachment" and fetch["referer"]:
                referers_with_report.add(fetch["referer"])
            add_report(fetch, doc)
    for fetch, doc in deferred:
        if fetch["url"] in referers_with_report:
            skip(fetch, "landing_page", "the attached document carries the report")
        else:
            add_report(fetch, doc)

    out["agencies"].extend(registry.rows(latest_name))
    out["metrics"].extend(dictionary_rows())
    out.commit(info={"inputs": inputs, "summary": summary.as_dict()})
    return summary
