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
])
