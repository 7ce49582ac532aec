"""Every Parquet schema of the warehouse, in one place."""
from __future__ import annotations

import pyarrow as pa

# One row per HTTP response the crawler received (archive/manifest).
RAW_MANIFEST_SCHEMA = pa.schema([
    ("url", pa.string()),            # the URL requested
    ("final_url", pa.string()),      # after redirects
    ("status", pa.int32()),
    ("content_type", pa.string()),
    ("encoding", pa.string()),       # as detected by the crawler for text responses
    ("sha256", pa.string()),         # body in the archive (null when no body was kept)
    ("size", pa.int64()),
    ("fetched_at", pa.timestamp("us", tz="UTC")),
    ("source_id", pa.string()),
    ("link_title", pa.string()),     # the anchor text that led here
    ("referer", pa.string()),
    ("kind", pa.string()),           # report | attachment | listing | robots | other
    ("run_id", pa.string()),
    ("error", pa.string()),          # why nothing usable was kept (size cap, failure, …)
    ("etag", pa.string()),           # the body's validators as the server sent them: a revisit asks
    ("last_modified", pa.string()),  # conditionally, and a 304 keeps the body archived before
])

# Parsed datasets, each partitioned by report_year (the column is kept inside the files too).
REPORTS_SCHEMA = pa.schema([
    ("report_id", pa.string()),          # sha256 of the normalised text: same report at two URLs = one id
    ("agency_id", pa.string()),
    ("agency_name", pa.string()),        # as printed
    ("report_year", pa.int32()),
    ("era", pa.string()),
    ("title", pa.string()),
    ("published_date", pa.string()),     # ISO date, as the page (or its URL) states it
    ("published_date_source", pa.string()),  # page_field | signed_date | url_path (NULL: no date stated)
    ("url", pa.string()),                # first URL it was fetched from
    ("content_sha256", pa.string()),     # raw body in the archive
    ("input_kind", pa.string()),
    ("parser_version", pa.string()),
    ("fetched_at", pa.timestamp("us", tz="UTC")),
    ("source_id", pa.string()),
    ("is_correction", pa.bool_()),       # title or text marks it as 更正/修订 version
    ("fact_count", pa.int32()),
    ("notes", pa.string()),
])

FACTS_SCHEMA = pa.schema([
    ("report_id", pa.string()),
    ("report_year", pa.int32()),
    ("era", pa.string()),
    ("fact_table", pa.string()),         # proactive | requests | reviews
    ("row", pa.string()),
    ("applicant", pa.string()),
    ("proceeding", pa.string()),
    ("result", pa.string()),
    ("item_type", pa.string()),
    ("measure", pa.string()),
    ("value", pa.float64()),
    ("unit", pa.string()),
    ("approximate", pa.bool_()),
    ("label_zh", pa.string()),
    ("source", pa.string()),
])

CHECKS_SCHEMA = pa.schema([
    ("report_id", pa.string()),
    ("report_year", pa.int32()),
    ("check_name", pa.string()),
    ("passed", pa.bool_()),
    ("expected", pa.float64()),
    ("actual", pa.float64()),
    ("detail", pa.string()),
])

REPORT_SOURCES_SCHEMA = pa.schema([
    ("report_id", pa.string()),
    ("report_year", pa.int32()),
    ("url", pa.string()),
    ("final_url", pa.string()),
    ("content_sha256", pa.string()),
    ("fetched_at", pa.timestamp("us", tz="UTC")),        # the first fetch of this content at this URL
    ("source_id", pa.string()),
    ("link_title", pa.string()),
    ("last_fetched_at", pa.timestamp("us", tz="UTC")),   # the latest fetch of this content at this URL
])

# Documents that gave no report, with the reason (unsupported, failed, no figures, landing page …).
QUARANTINE_SCHEMA = pa.schema([
    ("content_sha256", pa.string()),
    ("url", pa.string()),
    ("source_id", pa.string()),
    ("report_year", pa.int32()),         # when the document tells one (a landing page does)
    ("reason", pa.string()),
    ("detail", pa.string()),
])

AGENCIES_SCHEMA = pa.schema([
    ("agency_id", pa.string()),
    ("agency_name", pa.string()),        # current (latest) name
    ("names", pa.list_(pa.string())),    # every name it published under
    ("level", pa.string()),
    ("region_code", pa.string()),
    ("province", pa.string()),
    ("city", pa.string()),
    ("county", pa.string()),
    ("parent_agency_id", pa.string()),
    ("in_registry", pa.bool_()),
    ("established", pa.int32()),         # registry: first year the body existed (reports from that year on)
    ("abolished", pa.int32()),           # registry: year it was merged or abolished (no report for it or later)
])

METRICS_SCHEMA = pa.schema([
    ("dimension", pa.string()),
    ("key", pa.string()),
    ("label_zh", pa.string()),
    ("label_en", pa.string()),
    ("definition", pa.string()),
    ("eras", pa.string()),
])

# dataset name -> (schema, partitioned by report_year)
DATASETS = {
    "reports": (REPORTS_SCHEMA, True),
    "facts": (FACTS_SCHEMA, True),
    "checks": (CHECKS_SCHEMA, True),
    "report_sources": (REPORT_SOURCES_SCHEMA, True),
    "quarantine": (QUARANTINE_SCHEMA, False),
    "agencies": (AGENCIES_SCHEMA, False),
    "metrics": (METRICS_SCHEMA, False),
}
