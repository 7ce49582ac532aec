"""Agency identity: a registry of known bodies (with every name they published
under, so `agency_id` spans renames) and a stable id for bodies not in it.

The registry (YAML: `agencies:` entries) gives per body `agency_id`, `names` (strings, or
`{name:, years:}`), `level`, `region_code`, `province`, `city`, `county`, `parent_agency_id`,
and optionally when it existed: `established` (the year it was set up: it owes reports from
that report year on) and `abolished` (the year it was merged into another body or abolished:
it owes no report for that year or later). mart_report_timeliness reads the two years so a body
is never `missing` in a year it did not exist; a rename is not an abolition (one agency_id,
several names)."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from warehouse.parse.numbers import normalise_label

# Parts of a printed name that vary without changing the body (a bracketed note).
_NAME_NOISE = re.compile(r"[（(].*?[)）]")
_NATIONAL = re.compile(r"^(国务院|国家|中华人民共和国|中国)")
_ZONE = re.compile(r"(开发区|高新区|实验区|试验区|示范区|保税区|园区|管委会|管理委员会)$")
_TOWNSHIP = re.compile(r"(乡|镇|街道)(人民政府|办事处|党政办公室)?$")
_GOVERNMENT = re.compile(r"人民政府$")


def normalise_agency_name(name: str) -> str:
    return normalise_label(name)


@dataclass
class Agency:
    agency_id: str
    names: list[str]
    level: str | None = None
    region_code: str | None = None
    province: str | None = None
    city: str | None = None
    county: str | None = None
    parent_agency_id: str | None = None
    in_registry: bool = True
    established: int | None = None   # year the body was set up (first report year it owes)
    abolished: int | None = None     # year it was merged or abolished (owes no report for it or later)


class AgencyRegistry:
    """Resolves a printed agency name to an agency_id."""

    def __init__(self, agencies: list[Agency] | None = None):
        self.agencies: dict[str, Agency] = {}
        self._by_name: dict[str, str] = {}
        for agency in agencies or []:
            self.add(agency)

    @classmethod
    def from_yaml(cls, path: str | Path | None) -> "AgencyRegistry":
        if not path or not Path(path).exists():
            return cls()
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        agencies = []
        for entry in data.get("agencies", []):
            names = [n["name"] if isinstance(n, dict) else n for n in entry.get("names", [])]
            agencies.append(Agency(
                agency_id=str(entry["agency_id"]), names=names, level=entry.get("level"),
                region_code=_str_or_none(entry.get("region_code")), province=entry.get("province"),
                city=entry.get("city"), county=entry.get("county"),
                parent_agency_id=entry.get("parent_agency_id"),
                established=_year_or_none(entry.get("established")),
                abolished=_year_or_none(entry.get("abolished")),
            ))
        return cls(agencies)

    def add(self, agency: Agency) -> None:
        self.agencies[agency.agency_id] = agency
        for name in agency.names:
            self._by_name[normalise_agency_name(name)] = agency.agency_id

    def resolve(self, name: str | None) -> str | None:
        """agency_id for a printed name; unknown names get a stable id of their own."""
        if not name:
            return None
        key = normalise_agency_name(name)
        if key in self._by_name:
            return self._by_name[key]
        # Tolerate a printed name that adds or drops a suffix such as 办公室 or a bracketed note.
        stripped = _NAME_NOISE.sub("", key)
        for known, agency_id in self._by_name.items():
            if stripped and _NAME_NOISE.sub("", known) == stripped:
                return agency_id
        agency_id = "auto-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]
        self.add(Agency(agency_id=agency_id, names=[name], in_registry=False))
        return agency_id

    def rows(self, latest_names: dict[str, str]) -> list[dict]:
        """Rows of the agencies dataset; `latest_names` gives each id's most recent printed name.
        Bodies not in the registry get level and region inferred from their name."""
        infer_from_names([a for a in self.agencies.values() if not a.in_registry])
        return [{
            "agency_id": a.agency_id, "agency_name": latest_names.get(a.agency_id, a.names[-1] if a.names else None),
            "names": a.names, "level": a.level, "region_code": a.region_code, "province": a.province,
            "city": a.city, "county": a.county, "parent_agency_id": a.parent_agency_id,
            "in_registry": a.in_registry, "established": a.established, "abolished": a.abolished,
        } for a in self.agencies.values()]


def _str_or_none(value) -> str | None:
    return None if value is None else str(value)


def _year_or_none(value) -> int | None:
    """A registry year (2016, '2016' or a date such as 2016-05-01); None when absent or unreadable."""
    if value is None:
        return None
    match = re.match(r"\s*(\d{4})", str(value))
    return int(match.group(1)) if match else None


def level_from_name(name: str, region: dict) -> str | None:
    """national, provincial, prefecture, county, township, zone or department, from the printed name."""
    if _NATIONAL.match(name) and not region.get("province"):
        return "national"
    if _ZONE.search(name):
        return "zone"
    if _TOWNSHIP.search(name):
        return "township"
    if _GOVERNMENT.search(name):
        if region.get("county"):
            return "county"
        if region.get("city"):
            return "prefecture"
        return "provincial" if region.get("province") else None
    return "department"


def infer_from_names(agencies: list[Agency]) -> None:
    """Fill province / city / county / GB/T 2260 code (cpca's code table) and level from the name."""
    if not agencies:
        return
    import cpca  # ships the administrative-division code table; loaded only when needed

    names = [normalise_agency_name(a.names[-1]) for a in agencies]
    table = cpca.transform(names)
    for agency, name, (_, row) in zip(agencies, names, table.iterrows()):
        region = {key: (None if value != value else value)  # NaN -> None
                  for key, value in (("province", row["省"]), ("city", row["市"]), ("county", row["区"]),
                                     ("region_code", row["adcode"]))}
        agency.province, agency.city, agency.county = region["province"], region["city"], region["county"]
        agency.region_code = str(region["region_code"]) if region["region_code"] else None
        agency.level = agency.level or level_from_name(name, region)
