"""The Dagster resources: where each store lives, and how the crawl and the parse run.

Split by what a deployment changes independently:
- one resource per store, owning its location: `RawArchiveResource` (the archive folder),
  `ParsedStoreResource` (the parsed datasets folder), `WarehouseResource` (the DuckDB file, with
  the read-only looks the asset checks and previews take). Each store can move on its own, e.g.
  the archive onto a big slow disk and the warehouse next to its readers;
- `CrawlSettingsResource`: what to crawl and how (sources file, profile, base URL, the live-crawl
  switch, the drop that fails a source's check): only the raw_archive asset reads it;
- `ParseSettingsResource`: what the parse stage reads besides the archive (the agency registry)
  and its limits per document: only the parsed_reports asset reads it.

A location left unset is resolved when a run starts, in the layout of `DataPaths` under one data
directory ($DISCLOSURE_DATA_DIR, default ./data), so the defaults keep that layout. A deployment
points a store elsewhere without touching the assets: in the Definitions (`pipeline_resources`),
or in a run's config, e.g. `resources: {archive: {config: {folder: /mnt/raw}}}`.
"""
from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from spiders.gate import LIVE_CRAWL_ENV
from warehouse.stages import inspection
from warehouse.stages.workers import DOC_MEMORY_MB, DOC_TIMEOUT_SECONDS
from warehouse.storage.paths import PROJECT_ROOT, DataPaths

_UNSET = "unset: resolved at run time in the data directory ($DISCLOSURE_DATA_DIR, default ./data)"


def _resolved(location: str | None, default: Path) -> Path:
    return Path(location).resolve() if location else default


class RawArchiveResource(ConfigurableResource):
    """The raw archive: response bodies by sha256 and the crawl manifests (warehouse.storage.archive)."""
    folder: str | None = Field(default=None, description=f"archive folder; {_UNSET}/raw")

    @property
    def path(self) -> Path:
        return _resolved(self.folder, DataPaths.default().archive)


class ParsedStoreResource(ConfigurableResource):
    """The parsed Parquet datasets, one version per parse (warehouse.storage.parsed)."""
    folder: str | None = Field(default=None, description=f"parsed datasets folder; {_UNSET}/parsed")

    @property
    def path(self) -> Path:
        return _resolved(self.folder, DataPaths.default().parsed)


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse file, rebuilt by the build stage and read here read-only."""
    database: str | None = Field(default=None, description=f"DuckDB file; {_UNSET}/warehouse.duckdb")

    @property
    def path(self) -> Path:
        return _resolved(self.database, DataPaths.default().database)

    def check_failures(self, prefix: str) -> inspection.CheckFailures:
        return inspection.check_failures(self.path, prefix)

    def preview_markdown(self, table: str) -> str:
        return inspection.preview_markdown(self.path, table)

    def missing_reports_per_source(self) -> dict[str, int]:
        return inspection.missing_reports_per_source(self.path)

    def report_changes_since(self, since: str | None) -> inspection.ReportChanges:
        return inspection.report_changes_since(self.path, since)


class CrawlSettingsResource(ConfigurableResource):
    """What to crawl and how. The defaults need no secrets and never reach outside 127.0.0.1."""
    sources_path: str = Field(default=str(PROJECT_ROOT / "sources.yaml"), description="sources registry (YAML)")
    profile: str = Field(default="polite", description="crawl profile: polite | loopback")
    base_url: str = Field(default="", description="serve every source from this base URL (demo, tests)")
    live_crawl: bool = Field(default=False, description=f"crawl real sites (or set {LIVE_CRAWL_ENV}=1)")
    max_report_drop_share: float = Field(
        default=0.5, description="a source whose reachable reports fall by more than this share since "
                                 "the last crawl fails reports_per_source_not_falling")
    revisit_days: float = Field(
        default=30.0, ge=0, description="request an archived report page or attachment again when its latest "
                                        "fetch is this many days old, spread over a quarter more by URL (0: every run; spiders.revisit)")


class ParseSettingsResource(ConfigurableResource):
    """The agency registry the parse reads, and the limits of one document's parse
    (warehouse.stages.workers): a document past one is quarantined, not retried."""
    registry_path: str = Field(default=str(PROJECT_ROOT / "agencies.yaml"), description="agency registry (YAML)")
    doc_timeout: float = Field(default=DOC_TIMEOUT_SECONDS, description="seconds of one document's parse")
    doc_memory_mb: int = Field(default=DOC_MEMORY_MB, description="MB of address space of one document's parse")


def pipeline_resources(paths: DataPaths | None = None, *, crawl: CrawlSettingsResource | None = None,
                       parsing: ParseSettingsResource | None = None) -> dict[str, ConfigurableResource]:
    """Every resource the assets take, by key: the stores in `paths` (all three in one data directory),
    or resolved at run time when None; the given crawl and parse settings, or the defaults."""
    return {
        "archive": RawArchiveResource(folder=str(paths.archive) if paths else None),
        "parsed_store": ParsedStoreResource(folder=str(paths.parsed) if paths else None),
        "warehouse": WarehouseResource(database=str(paths.database) if paths else None),
        "crawl": crawl or CrawlSettingsResource(),
        "parsing": parsing or ParseSettingsResource(),
    }
