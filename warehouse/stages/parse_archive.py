"""The parse stage: raw archive -> parsed Parquet datasets, partitioned by report year.

`parse_archive` runs four steps, under the data directory's writer lock (warehouse.storage.locking):

1. plan_years: which report years to rewrite. A run rewrites the years whose inputs changed
   (new or changed fetches; every year when the parser or the agency registry changed) and
   carries the others over from the current version by hard link; a backfill (`years=`)
   rewrites exactly the years asked for. A document never placed in a year is parsed here
   to learn its year.
2. parse_documents: every document not in the parse cache is parsed in a worker process
   under limits (warehouse.stages.workers: wall clock and memory per document). Results are cached
   by sha256 per parser version, so a re-run with nothing new parses nothing. A document past
   a limit is cached as such (`timeout`, `memory`, `worker_died`): it is quarantined, and not
   tried again until the parser changes or `retry_quarantined` asks.
3. choose_reports: what each document of the rewritten years is: a report, the same report
   at another URL, a landing page, or quarantined with its reason. Documents are looked at
   in URL order, never in fetch order, so a crawl split into several runs (interrupted and
   run again) gives the same choices as one run; see `preference` for several reports of one
   agency and year.
4. write_version: the rows of the chosen reports streamed into a new version (warehouse.storage.parsed),
   the other years carried over, and the version made current.

A document that gives no report never stops the run: it is recorded in `quarantine`.

A 图片版 report page (its tables are <img>s, fetched as attachments with the page as referer:
spiders.discovery.page_images) that gives no table figures alone is parsed again with its images,
as ONE document in one worker task (Task.images; cached under a key over the page
and its set of images, `bundle_key`): the page's report, at its URL, with its date. Its images are
quarantined as `image_of_report`.

Every distinct body a URL served is a document of its own (`report_fetches`): a page edited in
place between two crawls gives two reports, two versions, each with when it was first and last
fetched there (report_sources.fetched_at / last_fetched_at); dim_report makes the newer current and
fct_report_changes lists what changed. A report's publication date keeps where it came from
(`publication_date`: the page's field, its signature, the page linking to an attachment, the URL).
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from urllib.parse import urlsplit
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pyarrow as pa

from warehouse import parser_fingerprint
from warehouse.deadlines import SIGNED_DATE, URL_PATH, date_from_url
from warehouse.storage.archive import RawArchive
from warehouse.storage.arrow import read_parquet, table_rows
from warehouse.stages.workers import DOC_MEMORY_MB, DOC_TIMEOUT_SECONDS, PARSE_WORKERS
from warehouse.facts import TABLE_DIMENSIONS
from warehouse.storage.locking import writer_lock
from warehouse.metrics import dictionary_rows
from warehouse.storage.schemas import QUARANTINE_SCHEMA, REPORTS_SCHEMA
from warehouse.storage.parsed import (ParsedVersion, current_version, read_version_info, remove_stale_versions,
                             update_version_info)
from warehouse.stages.workers import LIMIT_REASONS, DocLimits, Task, WorkerPool

_CORRECTION = re.compile(r"更正|修订版|修正版|更新版|（更正）|\(更正\)")
_TITLE_YEAR = re.compile(r"(20\d\d|19\d\d)\s*年度?")
_TITLE_AGENCY = re.compile(r"^(.*?)(?:20\d\d|19\d\d)\s*年")
# What the agency naming needs of the reports of years carried over.
_NAME_FIELDS = pa.schema([REPORTS_SCHEMA.field(n) for n in (
    "report_id", "agency_id", "agency_name", "report_year", "is_correction", "published_date", "fact_count")])
# What a page without figures keeps until it is known whether it is a landing page.
_PAGE_FIELDS = ("era", "report_year", "agency_name", "title", "published_date", "published_date_source", "input_kind",
                "text_sha256", "notes")


@dataclass
class ParseSummary:
    documents: int = 0
    parsed_now: int = 0          # not found in the cache (parsed by a worker, or stopped by a limit)
    reports: int = 0
    facts: int = 0
    failed_checks: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    unchanged: bool = False      # same inputs as the current version: nothing was written
    years_rewritten: list[int] = field(default_factory=list)
    years_carried: list[int] = field(default_factory=list)   # taken over from the previous version as they were
    left_for_full_run: int = 0   # documents of years a backfill was not asked for
    doc_timeout: float | None = None     # the limits each document was parsed under: seconds …
    doc_memory_mb: int | None = None     # … and MB of address space
    over_limits: int = 0         # documents this run stopped at a limit (quarantined as timeout/memory/worker_died)

    def as_dict(self) -> dict:
        return self.__dict__.copy()


# ------------------------------------------------------------------ small pieces

def report_fetches(archive: RawArchive) -> list[dict]:
    """Every distinct body each URL that may hold a report served (successful fetches): one row per
    (URL, body), the first fetch of that body there, with `last_fetched_at` its latest (a 304 to a
    revisit counts). A page edited in place between two crawls gives two rows, two versions of the
    report. In URL order, then by when each body was first seen there; not in fetch or crawl-run
    order: that order is the crawl's concurrency and where it was interrupted, and the first of the
    fetches of a report found at several URLs gives its url, so two crawls of one site (one of them
    cut short and run again) must give the same order."""
    first: dict[tuple[str, str], dict] = {}
    for row in sorted(archive.manifest_rows(), key=lambda r: r["fetched_at"]):
        if row["kind"] in ("report", "attachment") and row["status"] in (200, 304) and row["sha256"]:
            key = (row["url"], row["sha256"])
            if key in first:   # fetched again: the same body, or a 304 (not modified) naming it
                first[key]["last_fetched_at"] = row["fetched_at"]
            elif row["status"] == 200:
                first[key] = {**row, "last_fetched_at": row["fetched_at"]}
    return sorted(first.values(), key=lambda f: (f["url"], f["fetched_at"], f["sha256"]))


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


def over_limit_index(version_dir: Path) -> dict[str, int | None]:
    """content sha256 -> report year of the documents a parsed version quarantined at a limit."""
    fields = pa.schema([("content_sha256", pa.string()), ("report_year", pa.int32()), ("reason", pa.string())])
    index: dict[str, int | None] = {}
    for part in sorted((version_dir / "quarantine").rglob("*.parquet")):
        for row in table_rows(read_parquet(part, fields)):
            if row["reason"] in LIMIT_REASONS:
                index[row["content_sha256"]] = row["report_year"]
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


def preference(report: dict) -> tuple:
    """Sort key of the reports of one agency and year, the current one first (for the agency's
    name). The rule (dim_report's, which also ranks a report whose URL later served other content
    below the others): a marked correction (更正/修订 in its title), then the latest
    published, then the one with most facts, then the smallest report_id (the sha256 of its
    text). Every key comes from the documents' content, none from when or in which order
    they were fetched: a crawl interrupted and run again chooses as one uninterrupted crawl."""
    published = report.get("published_date")
    descending = tuple(-ord(c) for c in published) + (1,) if published else ()
    return (not report.get("is_correction"), published is None, descending,
            -(report.get("fact_count") or 0), report.get("report_id") or "")


def publication_date(doc: dict, fetch: dict, landing: tuple | None = None) -> tuple[str | None, str | None]:
    """The report's publication date and where it came from: what the document states (page_field,
    then signed_date: warehouse.parse.metadata.detect_published; for an attachment, the page linking
    to it (`landing`: date, source, url) is asked next to the document itself: its page field before
    the document's signature), else the date in the path of the URL it was fetched from, or of its
    landing page (url_path, warehouse.deadlines.date_from_url), else none."""
    own = (doc.get("published_date"), doc.get("published_date_source"))
    page_date, page_source, page_url = landing or (None, None, None)
    stated = [own, (page_date, page_source)]
    if own[1] == SIGNED_DATE:    # a page's publication field says more than a signature
        stated.reverse()
    for date, source in stated:
        if date:
            return date, source
    for url in (fetch.get("final_url"), fetch["url"], page_url):
        from_url = date_from_url(url)
        if from_url:
            return from_url, URL_PATH
    return None, None


def _count(counter: dict[str, int], key: str) -> None:
    counter[key] = counter.get(key, 0) + 1


# ------------------------------------------------------------------ the run

@dataclass
class Stage:
    """What every step of one parse run reads."""
    archive: RawArchive
    parsed_dir: Path
    registry_path: str | Path | None
    version: str                       # parser fingerprint
    cache_dir: Path
    fetches: list[dict]
    inputs: str
    current: dict                      # info of the current version ({} when none)
    previous: Path | None              # the current version's folder, when it keeps year bookkeeping
    placed: dict[str, int | None]      # where the current version put each document
    limits: DocLimits
    pool: WorkerPool                   # the run's parse workers (started when there is something to parse)
    reparse: bool
    retry_quarantined: bool
    progress: Callable | None
    summary: ParseSummary = field(default_factory=ParseSummary)
    parsed: set[str] = field(default_factory=set)    # sha256 parsed (or tried) by this run
    # 图片版 pages: report page URL -> the image fetches it is the referer of (see page_images)
    images_of: dict[str, list[dict]] = field(default_factory=dict)
    page_of_image: dict[str, str] = field(default_factory=dict)    # image sha256 -> its page's URL
    bundles: dict[str, str | None] = field(default_factory=dict)   # page sha256 -> bundle key (None: read alone)

    def cache_file(self, sha256: str) -> Path:
        return self.cache_dir / f"{sha256}.json"


@dataclass
class Plan:
    rewrite: set[int] | None            # the years to rewrite (None: all of them)
    year_of: dict[str, int | None]      # where this run puts each document it looked at
    retry: set[str]                     # documents stopped at a limit before, tried again now

    def processed(self, stage: Stage, fetch: dict) -> bool:
        """Whether this run looks at the document (the others are in years carried over)."""
        sha = fetch["sha256"]
        if self.rewrite is None or sha not in stage.placed or sha in self.retry:
            return True
        year = stage.placed[sha]
        return year is None or year in self.rewrite   # documents without a year are always looked at again


def parse_archive(archive_dir: str | Path, parsed_dir: str | Path, registry_path: str | Path | None = None,
                  progress=None, force: bool = False, years=None, reparse: bool = False, *,
                  doc_timeout: float = DOC_TIMEOUT_SECONDS, doc_memory_mb: int | None = DOC_MEMORY_MB,
                  workers: int = PARSE_WORKERS, retry_quarantined: bool = False,
                  lock_wait: float | None = None) -> ParseSummary:
    """Parse the archive into a new parsed version (rows streamed to Parquet in batches).

    Only the report years whose inputs changed are rewritten; the others are carried over
    from the current version. Nothing at all is done when the parser, the registry and the
    fetches are those of the current version (unless `force`: every year is rewritten).
    `years` rewrites exactly those years (a backfill); documents found to belong to other
    years are left for the next full run. `reparse` ignores the parse cache for the
    documents processed. `progress(done, total)` is called after each document parsed,
    then after each document read.

    Each document is parsed in a worker process within `doc_timeout` seconds and
    `doc_memory_mb` MB of address space (`workers` of them at once); one past a limit is
    quarantined, and tried again only by a new parser or `retry_quarantined`. The data
    directory (the parent of `parsed_dir`) is locked for the run: a second writer waits up
    to `lock_wait` seconds, then gets warehouse.storage.locking.WriterBusy.
    """
    parsed_dir = Path(parsed_dir)
    limits = DocLimits(doc_timeout, doc_memory_mb, workers)
    with writer_lock(parsed_dir.resolve().parent, "parse-archive", wait=lock_wait), WorkerPool(limits) as pool:
        stage = open_stage(archive_dir, parsed_dir, registry_path, limits, pool, reparse, retry_quarantined, progress)
        if years is None and not force and stage.current.get("inputs") == stage.inputs and not retry_due(stage):
            return unchanged_summary(stage)
        pool.warm(sum(1 for fetch in stage.fetches if needs_parsing(stage, fetch["sha256"])))  # while the run plans
        plan = plan_years(stage, years, force)
        if plan.rewrite == set():   # e.g. the first nightly run after a backfill: every year is as it was
            update_version_info(parsed_dir, {"inputs": stage.inputs})
            return unchanged_summary(stage, years_rewritten=[],
                                     years_carried=sorted(int(y) for y in stage.current.get("years", {})))
        todo = [fetch for fetch in stage.fetches if plan.processed(stage, fetch)]
        parse_documents(stage, todo)
        pool.close()   # everything is parsed: the workers' memory goes back before the version is written
        choices = choose_reports(stage, plan, todo)
        return write_version(stage, plan, choices, backfill=years is not None)


def open_stage(archive_dir, parsed_dir: Path, registry_path, limits: DocLimits, pool: WorkerPool, reparse: bool,
               retry_quarantined: bool, progress) -> Stage:
    """Read what the run depends on; drop what killed or older runs left behind."""
    version = parser_fingerprint()
    cache_dir = parsed_dir / "_cache" / version
    for stale in (parsed_dir / "_cache").glob("*"):   # results of other parser versions are never used
        if stale.name != version:
            shutil.rmtree(stale, ignore_errors=True)
    for leftover in cache_dir.glob(".*.tmp"):         # half-written by a worker that was stopped
        leftover.unlink(missing_ok=True)
    remove_stale_versions(parsed_dir)                  # versions no reader uses, half-written ones
    archive = RawArchive(archive_dir)
    fetches = report_fetches(archive)
    current = read_version_info(parsed_dir)
    previous = current_version(parsed_dir).resolve() if current.get("years") is not None else None
    stage = Stage(archive=archive, parsed_dir=parsed_dir, registry_path=registry_path, version=version,
                  cache_dir=cache_dir, fetches=fetches, inputs=inputs_fingerprint(version, registry_path, fetches),
                  current=current, previous=previous, placed=year_index(previous) if previous else {},
                  limits=limits, pool=pool, reparse=reparse, retry_quarantined=retry_quarantined, progress=progress)
    stage.images_of, stage.page_of_image = page_images(fetches)
    stage.summary.doc_timeout, stage.summary.doc_memory_mb = limits.timeout, limits.memory_mb
    return stage


def retry_due(stage: Stage) -> bool:
    """`retry_quarantined` with documents the current version quarantined at a limit."""
    quarantined = stage.current.get("summary", {}).get("quarantined", {})
    return stage.retry_quarantined and any(quarantined.get(reason) for reason in LIMIT_REASONS)


def unchanged_summary(stage: Stage, **changes) -> ParseSummary:
    fields = ParseSummary.__dataclass_fields__
    summary = ParseSummary(**{k: v for k, v in stage.current.get("summary", {}).items() if k in fields})
    for key, value in {"parsed_now": stage.summary.parsed_now, "over_limits": stage.summary.over_limits,
                       "unchanged": True, "doc_timeout": stage.limits.timeout,
                       "doc_memory_mb": stage.limits.memory_mb, **changes}.items():
        setattr(summary, key, value)
    return summary


# ------------------------------------------------------------------ 1. plan the years to rewrite

def plan_years(stage: Stage, years, force: bool) -> Plan:
    """The years to rewrite: those asked for (a backfill), all of them (`force`, or no version
    with year bookkeeping), or those whose inputs, parser or registry changed plus the years of
    the documents never placed (parsed now to learn them)."""
    retry = set(over_limit_index(stage.previous)) if stage.previous and stage.retry_quarantined else set()
    if years is not None:   # a backfill tries again only what it rewrites
        rewrite = {int(y) for y in years}
        return Plan(rewrite, {}, {sha for sha in retry if stage.placed.get(sha) in rewrite})
    if force or not stage.previous:
        return Plan(None, {}, retry)
    old_years: dict[str, dict] = stage.current.get("years", {})
    now = year_fingerprints(stage.fetches, stage.placed)
    made_with = {"parser": stage.version, "registry": file_digest(stage.registry_path)}
    rewrite = {int(y) for y in set(now) | set(old_years)    # a year made by another parser or registry
               if now.get(y) != old_years.get(y, {}).get("inputs")   # (a backfill may have left one) is made again
               or any(old_years.get(y, {}).get(k) != v for k, v in made_with.items())}
    # documents tried again leave the year they were quarantined in
    rewrite |= {stage.placed[sha] for sha in retry if stage.placed.get(sha) is not None}
    unplaced = [fetch for fetch in stage.fetches if fetch["sha256"] not in stage.placed or fetch["sha256"] in retry]
    parse_documents(stage, unplaced)
    year_of: dict[str, int | None] = {}
    for fetch in unplaced:   # their year is known only by parsing them
        year = year_of[fetch["sha256"]] = report_year_of(fetch, read_parsed(stage, fetch))
        if year is not None:
            rewrite.add(year)
    return Plan(rewrite, year_of, retry)


# ------------------------------------------------------------------ 2. parse new documents, under limits

def needs_parsing(stage: Stage, sha256: str) -> bool:
    if sha256 in stage.parsed:
        return False
    cache = stage.cache_file(sha256)
    if stage.reparse or not cache.exists():
        return True
    if stage.retry_quarantined and cache.stat().st_size < 8192:   # only a result of the parser itself stands
        return json.loads(cache.read_text(encoding="utf-8")).get("status") in LIMIT_REASONS
    return False


def parse_documents(stage: Stage, fetches: list[dict]) -> None:
    """Parse the documents not in the cache (each body once) in worker processes under the
    stage's limits. The workers write the cache; a document stopped at a limit is cached as
    that outcome, so neither this run nor the next parses it again.

    Report pages with images (page_images) go in two rounds: first the page alone; then, when it
    gave no table figures (a 图片版 page: its tables are the images), the page with its images
    as one document (a Task with its images, cached under bundle_key), else each image alone as before."""
    pages = [f for f in stage.fetches if f["url"] in stage.images_of and f["kind"] == "report"]
    asked = {f["sha256"] for f in fetches}
    with_images = [p for p in pages if p["sha256"] in asked
                   or any(i["sha256"] in asked for i in stage.images_of[p["url"]])]
    first = [f for f in fetches if f["sha256"] not in stage.page_of_image] + with_images
    _run_tasks(stage, [_task(stage, f) for f in _unique(first) if needs_parsing(stage, f["sha256"])])
    second: list[Task] = []
    bundles: list[Task] = []
    for page in with_images:
        key = bundle_key(stage, page)
        if key is not None:
            if needs_parsing(stage, key):
                bundles.append(Task(
                    key=key, path=str(stage.archive.object_path(page["sha256"])),
                    filename=page["final_url"] or page["url"], content_type=page["content_type"],
                    out=str(stage.cache_file(key)),
                    images=tuple((i["final_url"] or i["url"], str(stage.archive.object_path(i["sha256"])))
                                 for i in stage.images_of[page["url"]])))
        else:   # the page has its figures: its images are documents of their own
            second += [_task(stage, i) for i in stage.images_of[page["url"]] if needs_parsing(stage, i["sha256"])]
    _run_tasks(stage, list({t.key: t for t in second + bundles}.values()))


def _unique(fetches: list[dict]) -> list[dict]:
    return list({f["sha256"]: f for f in reversed(fetches)}.values())[::-1]


def _task(stage: Stage, fetch: dict) -> Task:
    sha = fetch["sha256"]
    return Task(key=sha, path=str(stage.archive.object_path(sha)), filename=fetch["final_url"] or fetch["url"],
                content_type=fetch["content_type"], out=str(stage.cache_file(sha)))


def _run_tasks(stage: Stage, tasks: list[Task]) -> None:
    if not tasks:
        return
    stage.cache_dir.mkdir(parents=True, exist_ok=True)
    for done, outcome in enumerate(stage.pool.run(tasks), start=1):
        stage.parsed.add(outcome.task.key)
        stage.summary.parsed_now += 1
        if outcome.status != "parsed":
            stage.summary.over_limits += 1
            write_cached(stage.cache_file(outcome.task.key), {
                "status": outcome.status, "notes": [outcome.detail], "facts": [], "checks": [],
                "limits": stage.limits.as_dict(), "seconds": round(outcome.seconds, 3)})
        if stage.progress:
            stage.progress(done, len(tasks))


# ------------------------------------------------------------------ 图片版 pages: a page and its images

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")


def is_image_fetch(fetch: dict) -> bool:
    """An image by the type the server sent, else by its URL's file name."""
    content_type = (fetch.get("content_type") or "").split(";")[0].strip().lower()
    if content_type.startswith("image/"):
        return True
    path = urlsplit(fetch.get("final_url") or fetch["url"]).path.lower()
    return content_type in ("", "application/octet-stream", "binary/octet-stream") and path.endswith(_IMAGE_SUFFIXES)


def page_images(fetches: list[dict]) -> tuple[dict[str, list[dict]], dict[str, str]]:
    """Report page URL -> the images fetched with it as referer (the newest body of each image
    URL, in URL order: the page's order is read from the page itself by the parser), and image
    sha256 -> that page's URL. An image two pages share belongs to the first page in URL order."""
    pages = {f["url"] for f in fetches if f["kind"] == "report"}
    newest: dict[tuple[str, str], dict] = {}
    for fetch in fetches:   # in URL order, each URL's bodies oldest first: the newest wins
        if fetch["kind"] == "attachment" and fetch.get("referer") in pages and is_image_fetch(fetch):
            newest[(fetch["referer"], fetch["url"])] = fetch
    images_of: dict[str, list[dict]] = {}
    page_of_image: dict[str, str] = {}
    for (page, _), fetch in sorted(newest.items(), key=lambda item: item[0]):
        if fetch["sha256"] not in page_of_image:
            page_of_image[fetch["sha256"]] = page
            images_of.setdefault(page, []).append(fetch)
    return images_of, page_of_image


def bundle_key(stage: Stage, page: dict) -> str | None:
    """The cache key of a page parsed with its images (over the page's body and the set of its
    images: a changed image, one more or one less parse the page again), or None when the page
    is read alone: its own parse gave table figures, or it was not parsed. Needs the page's own
    parse in the cache."""
    sha = page["sha256"]
    if sha in stage.bundles:
        return stage.bundles[sha]
    key = None
    cache = stage.cache_file(sha)
    if page["url"] in stage.images_of and not cache.exists():
        return None   # not parsed yet: asked again once it is
    if page["url"] in stage.images_of:
        alone = json.loads(cache.read_text(encoding="utf-8"))
        if alone.get("status", "parsed") == "parsed" and \
                not any(str(f.get("source") or "").startswith("table") for f in alone.get("facts") or []):
            digest = hashlib.sha256(f"page with images\n{sha}\n".encode())
            # images by path, not host: the same site served at another address (https, a mirror, a
            # local replay) is not read by OCR again
            for path, image_sha in sorted((site_path(i["final_url"] or i["url"]), i["sha256"])
                                          for i in stage.images_of[page["url"]]):
                digest.update(f"{path} {image_sha}\n".encode())
            key = digest.hexdigest()
    stage.bundles[sha] = key
    return key


def site_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def write_cached(path: Path, result: dict) -> None:
    tmp = path.with_name(f".{path.name}.parent.tmp")
    tmp.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def read_parsed(stage: Stage, fetch: dict) -> dict:
    """The parse JSON of a document, from the cache (parse_documents has put it there): for a
    page read with its images, that reading; for one of those images, where it went."""
    sha = fetch["sha256"]
    page_url = stage.page_of_image.get(sha)
    if page_url is not None and fetch["kind"] == "attachment":
        page = next((p for p in stage.fetches if p["url"] == page_url and p["kind"] == "report"
                     and bundle_key(stage, p) is not None), None)
        if page is not None:
            year = report_year_of(page, read_parsed(stage, page))
            return {"status": "image_of_report", "report_year": year, "facts": [], "checks": [],
                    "notes": [f"an image of the report page {page_url}, read with it"]}
    key = bundle_key(stage, fetch) if fetch["kind"] == "report" and fetch["url"] in stage.images_of else None
    if key is not None and stage.cache_file(key).exists():
        bundled = json.loads(stage.cache_file(key).read_text(encoding="utf-8"))
        if bundled.get("status", "parsed") == "parsed":
            return bundled
        alone = json.loads(stage.cache_file(sha).read_text(encoding="utf-8"))   # stopped at a limit: the page
        alone["notes"] = [*(alone.get("notes") or []), (f"its images not read: {bundled.get('status')}:"
                                                         f" {'; '.join(bundled.get('notes') or [])}")]
        return alone
    return json.loads(stage.cache_file(sha).read_text(encoding="utf-8"))


# ------------------------------------------------------------------ 3. choose the reports

@dataclass
class Choice:
    """What one document is: a `report` (first seen of its report_id: its doc has the facts),
    a `source` (a report already chosen, at another URL) or `quarantine` (with reason)."""
    kind: str
    fetch: dict
    year: int | None
    report_id: str | None = None
    doc: dict | None = None
    reason: str = ""
    detail: str = ""
    landing: tuple | None = None   # an attachment's page that links to it: (published_date, its source, url)


def choose_reports(stage: Stage, plan: Plan, todo: list[dict]) -> Iterator[Choice]:
    """One Choice per document of `todo` (in URL order): reports with their facts as they come
    (so memory holds one document at a time), then the pages without figures, which wait until
    every attachment is known: a page whose attachment carries the report is its landing page,
    not a report. A report found at several URLs is reported once, from its first URL."""
    report_ids: set[str] = set()
    deferred: list[tuple[dict, dict, int]] = []
    referers_with_report: set[str] = set()
    pages = {f["url"]: f for f in stage.fetches if f["kind"] == "report"}   # the newest body of each page

    def landing(fetch: dict) -> tuple | None:
        """What the page that links to an attachment states of its publication (the attachment,
        a PDF or DOCX, seldom prints the date the page shows)."""
        page = pages.get(fetch["referer"] or "")
        if page is None or not stage.cache_file(page["sha256"]).exists():
            return None
        doc = read_parsed(stage, page)
        return doc.get("published_date"), doc.get("published_date_source"), page["url"]

    def report_or_source(fetch: dict, doc: dict, year: int) -> Choice:
        report_id = doc.get("text_sha256") or fetch["sha256"]
        if report_id in report_ids:
            return Choice("source", fetch, year, report_id, doc)
        report_ids.add(report_id)
        return Choice("report", fetch, year, report_id, doc)

    for done, fetch in enumerate(todo, start=1):
        doc = read_parsed(stage, fetch)
        if stage.progress:
            stage.progress(done, len(todo))
        year = plan.year_of[fetch["sha256"]] = report_year_of(fetch, doc)
        notes = "; ".join(doc.get("notes") or [])
        if plan.rewrite is not None and year is not None and year not in plan.rewrite:
            plan.year_of[fetch["sha256"]] = None   # not placed: the next full run takes it as new
            stage.summary.left_for_full_run += 1
        elif doc.get("status") == "image_of_report":   # its figures are its page's report
            yield Choice("quarantine", fetch, year, reason="image_of_report", detail=notes)
        elif doc.get("status") in ("unsupported", "failed", *LIMIT_REASONS):
            yield Choice("quarantine", fetch, year, reason=doc["status"], detail=notes)
        elif not doc.get("era"):
            yield Choice("quarantine", fetch, year, reason="not_a_report", detail=notes)
        elif year is None:
            yield Choice("quarantine", fetch, None, reason="no_report_year", detail=notes)
        elif not doc.get("facts"):
            deferred.append((fetch, {key: doc.get(key) for key in _PAGE_FIELDS}
                             | {"facts": [], "checks": doc.get("checks", [])}, year))
        else:
            choice = report_or_source(fetch, doc, year)
            if fetch["kind"] == "attachment" and fetch["referer"]:
                referers_with_report.add(fetch["referer"])
                choice.landing = landing(fetch)
            yield choice
    for fetch, doc, year in deferred:
        if fetch["url"] in referers_with_report:
            yield Choice("quarantine", fetch, year, reason="landing_page",
                         detail="the attached document carries the report")
        else:
            yield report_or_source(fetch, doc, year)


# ------------------------------------------------------------------ 4. assemble and commit a version

class AgencyNames:
    """Each agency's current name: the one printed on its preferred report (`preference`) of
    its latest year."""

    def __init__(self):
        self.best: dict[str, tuple] = {}

    def saw(self, agency_id: str, report: dict) -> None:
        if not report.get("agency_name"):
            return
        key = (-report["report_year"], preference(report))
        if agency_id not in self.best or key < self.best[agency_id][0]:
            self.best[agency_id] = (key, report["agency_name"])

    def latest(self) -> dict[str, str]:
        return {agency_id: name for agency_id, (_, name) in self.best.items()}


def write_version(stage: Stage, plan: Plan, choices: Iterator[Choice], backfill: bool) -> ParseSummary:
    """Stream the chosen rows into a new version beside the years carried over, keep what each
    year was made from (so the next run can carry it over), and make the version current."""
    from warehouse.agencies import AgencyRegistry  # only paid when something is parsed

    summary, placed, rewrite = stage.summary, stage.placed, plan.rewrite
    carried = sorted({y for y in placed.values() if y is not None} - rewrite) if rewrite is not None else []
    registry = AgencyRegistry.from_yaml(stage.registry_path)
    names = AgencyNames()
    out = ParsedVersion(stage.parsed_dir)
    if carried:
        out.carry_over(stage.previous, carried)
        for row in read_rows(stage.previous, "reports", _NAME_FIELDS, set(carried)):
            registry.resolve(row["agency_name"])   # bodies outside the registry get their ids back
            names.saw(row["agency_id"], row)
        for row in read_rows(stage.previous, "quarantine", QUARANTINE_SCHEMA, set(carried)):
            out["quarantine"].add(row)
            _count(summary.quarantined, row["reason"])
    year_stats: dict[int, dict] = {}

    for choice in choices:
        fetch = choice.fetch
        if choice.kind == "quarantine":
            out["quarantine"].add({"content_sha256": fetch["sha256"], "url": fetch["url"], "report_year": choice.year,
                                   "source_id": fetch["source_id"], "reason": choice.reason,
                                   "detail": choice.detail[:2000]})
            _count(summary.quarantined, choice.reason)
            continue
        out["report_sources"].add({"report_id": choice.report_id, "report_year": choice.year, "url": fetch["url"],
                                   "final_url": fetch["final_url"], "content_sha256": fetch["sha256"],
                                   "fetched_at": fetch["fetched_at"], "source_id": fetch["source_id"],
                                   "link_title": fetch["link_title"], "last_fetched_at": fetch["last_fetched_at"]})
        if choice.kind == "report":
            write_report(out, stage, registry, names, choice, year_stats)

    out["agencies"].extend(registry.rows(names.latest()))
    out["metrics"].extend(dictionary_rows())

    # Year bookkeeping: what each year was made from, so the next run can carry it over.
    final_year = {**placed, **plan.year_of} if rewrite is not None else plan.year_of
    fingerprints = year_fingerprints([f for f in stage.fetches if f["sha256"] in final_year], final_year)
    old_years: dict[str, dict] = stage.current.get("years", {}) if stage.previous else {}
    registry_digest = file_digest(stage.registry_path)
    info_years = {}
    for year in sorted({int(y) for y in fingerprints} | set(year_stats)):
        if year in carried:
            entry = dict(old_years.get(str(year), {}))
        else:
            entry = {"reports": 0, "facts": 0, "failed_checks": 0, **year_stats.get(year, {}),
                     "parser": stage.version, "registry": registry_digest}
        info_years[str(year)] = {**entry, "inputs": fingerprints.get(str(year))}
    for stats in info_years.values():
        for key in ("reports", "facts", "failed_checks"):
            setattr(summary, key, getattr(summary, key) + stats[key])
    summary.documents = len({f["sha256"] for f in stage.fetches})
    summary.years_rewritten = sorted(year_stats) if rewrite is None else sorted(rewrite)
    summary.years_carried = carried
    out.commit(info={"inputs": None if backfill else stage.inputs, "years": info_years,
                     "summary": summary.as_dict()})
    return summary


def write_report(out: ParsedVersion, stage: Stage, registry, names: AgencyNames, choice: Choice,
                 year_stats: dict[int, dict]) -> None:
    """The report row of a chosen report, its facts and its checks."""
    fetch, doc, year, report_id = choice.fetch, choice.doc, choice.year, choice.report_id
    agency_name = doc.get("agency_name") or agency_from_title(doc.get("title") or fetch["link_title"])
    agency_id = registry.resolve(agency_name) or f"source-{fetch['source_id']}"
    title = doc.get("title") or fetch["link_title"]
    notes = "; ".join(doc.get("notes") or [])
    published_date, date_source = publication_date(doc, fetch, choice.landing)
    report = {
        "report_id": report_id, "agency_id": agency_id, "agency_name": agency_name,
        "report_year": year, "era": doc["era"], "title": title,
        "published_date": published_date, "published_date_source": date_source, "url": fetch["url"],
        "content_sha256": fetch["sha256"], "input_kind": doc.get("input_kind"),
        "parser_version": stage.version, "fetched_at": fetch["fetched_at"],
        "source_id": fetch["source_id"],
        "is_correction": bool(_CORRECTION.search(f"{title or ''} {fetch['link_title'] or ''}")),
        "fact_count": len(doc["facts"]), "notes": notes or None,
    }
    out["reports"].add(report)
    names.saw(agency_id, report)
    out["facts"].extend(fact_row(report_id, year, doc["era"], f) for f in doc["facts"])
    failed = 0
    for check in doc.get("checks", []):
        out["checks"].add({"report_id": report_id, "report_year": year, **check})
        failed += not check["passed"]
    stats = year_stats.setdefault(year, {"reports": 0, "facts": 0, "failed_checks": 0})
    stats["reports"] += 1
    stats["facts"] += len(doc["facts"])
    stats["failed_checks"] += failed
