"""What a parsed document is: facts (one number each) plus report metadata.

The JSON of `disclosure parse FILE --json` is `ParsedReport.to_json()`; its shape
is fixed by spec/DATA_MODEL.md.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from warehouse.metrics import DIMENSIONS, TABLES

# The two dimensions of each fact table, in order.
TABLE_DIMENSIONS = {
    "requests": ("row", "applicant"),
    "reviews": ("proceeding", "result"),
    "proactive": ("item_type", "measure"),
}
_VALID = {dim: {k.key for k in keys} for dim, keys in DIMENSIONS.items()}
# table -> its two dimensions, each with the keys it allows
_TABLE_KEYS = {table: tuple((dim, _VALID[dim]) for dim in TABLE_DIMENSIONS[table]) for table in TABLES}


@dataclass(slots=True)
class Fact:
    """One figure of one report, with where it came from.

    `dims` holds the table's two dimension keys, e.g. {"row": "granted",
    "applicant": "total"}. `source` is a cell address (`table3!r5c2`) or a
    character span of the text (`text!1203-1221`).
    """
    table: str
    dims: dict[str, str]
    value: float | int
    label_zh: str = ""
    source: str = ""
    unit: str | None = None
    approximate: bool = False

    def __post_init__(self) -> None:
        # A report has hundreds of facts: the checks are a few lookups each.
        dimensions = _TABLE_KEYS.get(self.table)
        if dimensions is None:
            raise ValueError(f"unknown fact table {self.table!r}")
        (a, valid_a), (b, valid_b) = dimensions
        dims = self.dims
        if tuple(dims) != (a, b):
            self.dims = dims = {a: dims[a], b: dims[b]}
        if dims[a] not in valid_a:
            raise ValueError(f"unknown {a} key {dims[a]!r}")
        if dims[b] not in valid_b:
            raise ValueError(f"unknown {b} key {dims[b]!r}")

    @property
    def key(self) -> tuple[str, str, str]:
        a, b = self.dims.values()  # the table's two dimensions, in order (__post_init__)
        return (self.table, a, b)

    def to_json(self) -> dict:
        out = {"table": self.table, **self.dims, "value": self.value,
               "label_zh": self.label_zh, "source": self.source}
        if self.unit:
            out["unit"] = self.unit
        if self.approximate:
            out["approximate"] = True
        return out


@dataclass
class CheckResult:
    check_name: str
    passed: bool
    expected: float | None = None
    actual: float | None = None
    detail: str = ""

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class ParsedReport:
    report_year: int | None
    agency_name: str | None
    era: str | None
    title: str | None = None
    published_date: str | None = None
    # where published_date came from: page_field | signed_date (warehouse.parse.metadata.detect_published)
    published_date_source: str | None = None
    facts: list[Fact] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    # Why figures are missing or the document was skipped (e.g. tables are images).
    notes: list[str] = field(default_factory=list)
    input_kind: str | None = None  # html, pdf, docx, text
    content_sha256: str | None = None
    text_sha256: str | None = None  # of the normalised text: the report's identity across URLs
    status: str = "parsed"  # parsed | unsupported | failed

    def to_json(self) -> dict:
        return {
            "report_year": self.report_year,
            "agency_name": self.agency_name,
            "era": self.era,
            "title": self.title,
            "published_date": self.published_date,
            "published_date_source": self.published_date_source,
            "input_kind": self.input_kind,
            "status": self.status,
            "content_sha256": self.content_sha256,
            "text_sha256": self.text_sha256,
            "facts": [f.to_json() for f in self.facts],
            "checks": [c.to_json() for c in self.checks],
            "notes": self.notes,
        }


def dedupe_facts(facts: list[Fact]) -> list[Fact]:
    """Keep the first fact for each key: parsers emit the most reliable source first."""
    seen: set[tuple] = set()
    out = []
    for f in facts:
        key = f.key
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
