"""A bigger demo portal for benchmarks: the 17 demo agencies plus `copies - 1` renamed copies of them.

    generate_scaled_portal(out_dir, copies=10, seed=2024, pdf_sample=0) -> answer key (without facts)

Copy 0 is the demo portal's own agency set (with its planted scenarios); copy k ≥ 1
renames every place (青川, 岚州, 松溪, 枫林, 白石, 临江) to an invented one and suffixes the
agency ids with `-k<k>`, so each copy is a different set of bodies with its own figures
(drawn from the same random stream). The output has the layout of generate.py's
(site/, answer_key.json, agencies.yaml, sources.yaml); generate.py itself is unchanged.

`pdf_sample` > 0 also renders, for the first that many reports of each era, the report as
a PDF under OUT_DIR/pdf_corpus/<era>/ (not linked from the site): the parse benchmark's
PDF input, made by the same renderer as the portal's two PDF-only reports.
"""
from __future__ import annotations

import dataclasses
import random
from pathlib import Path

from demo_portal import generate as g
from demo_portal import pages, tables
from demo_portal.agencies import AGENCIES, Agency
from demo_portal.pdf import render_pdf

PLACES = ("青川", "岚州", "松溪", "枫林", "白石", "临江")
_FIRST = "云金玉丰安宁泰永兴嘉福瑞华明"
_SECOND = "岭泉门河陵源阳平湖峰冈坪"
_COMBOS = [a + b for a in _FIRST for b in _SECOND]


def place_names(copy: int) -> dict[str, str]:
    """Invented place names of copy k (k ≥ 1): six two-character names, none a demo place, distinct
    across copies (a third character once the two-character names run out)."""
    start = (copy - 1) * len(PLACES)
    names = []
    for i in range(start, start + len(PLACES)):
        rnd, at = divmod(i, len(_COMBOS))
        names.append(_COMBOS[at] + (_FIRST[rnd - 1] if rnd else ""))
    return dict(zip(PLACES, names))


def copy_agency(agency: Agency, copy: int) -> Agency:
    if copy == 0:
        return agency
    rename = place_names(copy)

    def sub(text: str) -> str:
        for old, new in rename.items():
            text = text.replace(old, new)
        return text

    return dataclasses.replace(
        agency, agency_id=f"{agency.agency_id}-k{copy}",
        names=tuple((sub(n), a, b) for n, a, b in agency.names),
        region_code=f"{int(agency.region_code) + copy * 10000 % 420000:06d}",
        city=sub(agency.city) if agency.city else None, county=sub(agency.county) if agency.county else None,
        parent_agency_id=f"{agency.parent_agency_id}-k{copy}" if agency.parent_agency_id else None)


class ScaledBuilder(g.PortalBuilder):
    """PortalBuilder that keeps each report's rendered blocks, for the PDF corpus."""

    def __init__(self, seed: int, agencies: tuple[Agency, ...]):
        super().__init__(seed, agencies)
        self.blocks_of: dict[tuple[str, int], list] = {}

    # keep each report's own blocks (the first call: a correction re-renders a wrong copy after it)
    def table_blocks(self, report):
        blocks, facts = super().table_blocks(report)
        self.blocks_of.setdefault(report.key, blocks)
        return blocks, facts

    def prose_blocks(self, report):
        blocks, facts = super().prose_blocks(report)
        self.blocks_of.setdefault(report.key, blocks)
        return blocks, facts


def generate_scaled_portal(out_dir: Path, copies: int = 10, seed: int = 2024, pdf_sample: int = 0) -> dict:
    out_dir = Path(out_dir)
    agencies = tuple(copy_agency(a, k) for k in range(copies) for a in AGENCIES)
    builder = ScaledBuilder(seed, agencies)
    listing_paths = g.build_portal(builder)
    key = {
        "base_url": g.BASE,
        "reports": [{**g.report_entry(r), "facts": len(r.facts)} for r in builder.reports],
        "non_report_urls": [g.url(p) for p in builder.non_report_paths],
        "listing_urls": [g.url(p) for p in listing_paths],
    }
    g.write_outputs(out_dir, builder, key)
    if pdf_sample:
        write_pdf_corpus(out_dir / "pdf_corpus", builder, pdf_sample, seed)
    return key


def write_pdf_corpus(folder: Path, builder: ScaledBuilder, per_era: int, seed: int) -> None:
    rng = random.Random(seed + 1)
    counts: dict[str, int] = {}
    for report in builder.reports:
        if counts.get(report.era, 0) >= per_era or report.key not in builder.blocks_of:
            continue
        counts[report.era] = counts.get(report.era, 0) + 1
        fmt = tables.NumberFormat(report.agency.style, rng)
        target = folder / report.era / f"{report.agency.agency_id}_{report.year}.pdf"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(render_pdf(report.title, builder.blocks_of[report.key], fmt))


__all__ = ["generate_scaled_portal", "copy_agency", "place_names", "pages"]
