"""Word 97 .doc, WPS .wps and Excel 97 .xls attachments (issue 14): committed assets checked against the figures.

Writing these formats needs LibreOffice, and the demo must generate without it. So
`python -m demo_portal.make_office_assets` (LibreOffice, once) builds each asset from the generator's own
blocks for its agency-year and records, in assets/manifest.json, the digest of the title, era and figures it
was made from and the asset's own sha256. `load_asset` hands the generator the committed bytes after checking
both: when the generator's figures have changed since, it stops with one line (AssetStale) telling to re-run
the script, rather than serving a file that disagrees with the answer key.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

ASSETS = Path(__file__).resolve().with_name("assets")
MANIFEST = ASSETS / "manifest.json"
REMAKE = ".venv/bin/python -m demo_portal.make_office_assets (needs LibreOffice)"
OFFICE_KINDS = ("doc", "wps", "xls")   # answer key `format` values served from assets/


class AssetStale(RuntimeError):
    """A committed office asset is missing or was made from other figures than the generator's."""


def asset_name(agency_id: str, year: int, kind: str) -> str:
    return f"{agency_id}-{year}.{kind}"


def figures_digest(title: str, era: str, facts) -> str:
    """sha256 of what the asset must carry: the title (its year), the era and every figure (not the prose)."""
    figures = sorted(
        [f.table, *(str(v) for v in f.dims.values()), repr(float(f.value)), f.unit or ""] for f in facts)
    return hashlib.sha256(json.dumps([title, era, figures], ensure_ascii=False).encode("utf-8")).hexdigest()


def read_manifest() -> dict:
    try:
        return json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def load_asset(agency_id: str, year: int, kind: str, title: str, era: str, facts) -> bytes:
    """The committed asset's bytes; AssetStale (one line) when it is missing, altered or made from other figures."""
    name = asset_name(agency_id, year, kind)
    path = ASSETS / name
    entry = read_manifest().get(name)
    if not path.is_file() or entry is None:
        raise AssetStale(f"demo_portal/assets/{name} is missing: re-run {REMAKE}")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        raise AssetStale(f"demo_portal/assets/{name} differs from the one recorded in its manifest: re-run {REMAKE}")
    if entry.get("figures_sha256") != figures_digest(title, era, facts):
        raise AssetStale(f"demo_portal/assets/{name} was made from other figures than the generator's for "
                         f"{agency_id} {year}: re-run {REMAKE}")
    return data
