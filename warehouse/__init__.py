"""The disclosure statistics warehouse. Its top-level modules and `parse/`, `eras/` are the domain
(keys, eras, parsing, facts, checks, agencies: plain Python, no I/O policy); `storage/` keeps the
data and `stages/` are the parse and build stages over it. Imports neither Dagster nor Scrapy."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

PARSER_VERSION = "0.1.0"
_PARSER_SOURCES = ("parse/*.py", "eras/*.py", "checks.py", "facts.py", "metrics.py")


@lru_cache(maxsize=1)
def parser_fingerprint() -> str:
    """PARSER_VERSION plus a hash of the parser's source: cached parse results of another
    parser (even one whose version number nobody bumped) are never reused."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for pattern in _PARSER_SOURCES:
        for path in sorted(here.glob(pattern)):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{PARSER_VERSION}+{digest.hexdigest()[:12]}"
