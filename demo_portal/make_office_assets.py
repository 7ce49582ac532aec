"""Build the demo portal's Word 97 / WPS / Excel 97 attachments once (needs LibreOffice); the outputs are committed.

    .venv/bin/python -m demo_portal.make_office_assets

Runs the generator (seed 2024) without reading any asset, takes the blocks of each report that
generate.OTHER_FORMATS publishes as `doc`, `wps` or `xls`, and writes
  doc, wps: the whole report (title, headings, paragraphs, tables with their merged cells) with python-docx,
            converted by `soffice --headless --convert-to 'doc:MS Word 97'`; the .wps is that Word 97 file
            under the name WPS Writer gives it (WPS saves this OLE format);
  xls:      the generator's own workbook of the report's tables (scan.tables_xlsx), converted by
            `soffice --convert-to 'xls:MS Excel 97'`
to demo_portal/assets/<agency_id>-<year>.<ext>, and assets/manifest.json with each asset's sha256 and the digest
of the title, era and figures it was made from (demo_portal.office checks both when generating). Each asset is
parsed back (warehouse.parse.parse_bytes) and must give exactly the generator's facts; exits 1 otherwise.
Debian packages: libreoffice-writer-nogui, libreoffice-calc-nogui (7.4 here).
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demo_portal import office  # noqa: E402
from demo_portal.tables import cell_text, layout  # noqa: E402


def write_docx(path: Path, title: str, blocks, fmt) -> None:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    document = docx.Document()
    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    heading.add_run(title).bold = True
    for kind, content in blocks:
        if kind == "heading":
            document.add_paragraph().add_run(content).bold = True
        elif kind == "para":
            document.add_paragraph(content)
        else:
            placed = layout(content[0])
            ncols = max(c + cell.colspan for _, c, cell in placed)
            table = document.add_table(rows=len(content[0]), cols=ncols)
            table.style = "Table Grid"
            for r, c, cell in placed:
                table.cell(r, c).text = cell_text(cell, fmt).replace("&nbsp;", "")
            for r, c, cell in placed:
                if cell.rowspan > 1 or cell.colspan > 1:
                    top = table.cell(r, c)
                    text = top.text
                    merged = top.merge(table.cell(r + cell.rowspan - 1, c + cell.colspan - 1))
                    merged.text = text   # merge() joins the covered cells' (empty) paragraphs
    document.save(path)


def soffice(src: Path, target: str, outdir: Path) -> Path:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        raise SystemExit("error: LibreOffice (soffice) is needed to build the assets: apt-get install -y "
                         "libreoffice-writer-nogui libreoffice-calc-nogui")
    subprocess.run([exe, "--headless", "--convert-to", target, "--outdir", str(outdir), str(src)],
                   check=True, capture_output=True, timeout=300)
    return outdir / (src.stem + "." + target.split(":")[0])


def build(report, blocks, fmt, kind: str, tmp: Path) -> bytes:
    from demo_portal import scan

    stem = tmp / office.asset_name(report.agency.agency_id, report.year, kind).rsplit(".", 1)[0]
    if kind in ("doc", "wps"):
        write_docx(stem.with_suffix(".docx"), report.title, blocks, fmt)
        return soffice(stem.with_suffix(".docx"), "doc:MS Word 97", tmp).read_bytes()
    stem.with_suffix(".xlsx").write_bytes(scan.tables_xlsx(report.title, blocks, fmt))
    out = tmp / "xls"
    out.mkdir(exist_ok=True)
    return soffice(stem.with_suffix(".xlsx"), "xls:MS Excel 97", out).read_bytes()


def parsed_matches(data: bytes, name: str, report) -> list[str]:
    """What differs between the asset parsed and the generator's report (empty: nothing)."""
    from demo_portal.verify import diff_facts, fact_key
    from warehouse.parse import parse_bytes

    parsed = parse_bytes(data, filename=name)
    want = {fact_key(f.to_json()): float(f.value) for f in report.facts}
    got = {fact_key(f.to_json()): float(f.value) for f in parsed.facts}
    problems = [f"{k}: {v}" for k, v in diff_facts(want, got).items()]
    if (parsed.report_year, parsed.era) != (report.year, report.era):
        problems.append(f"year/era {parsed.report_year}/{parsed.era} != {report.year}/{report.era}")
    return problems


def main() -> int:
    from demo_portal.generate import OTHER_FORMATS, PortalBuilder, build_portal

    builder = PortalBuilder(2024)
    builder.check_assets = False
    build_portal(builder)
    office.ASSETS.mkdir(exist_ok=True)
    manifest, failed = {}, False
    with tempfile.TemporaryDirectory() as tmp:
        for key, kind in sorted(OTHER_FORMATS.items()):
            if kind not in office.OFFICE_KINDS:
                continue
            report, blocks, fmt = builder.office_sources[key]
            name = office.asset_name(*key, kind)
            data = build(report, blocks, fmt, kind, Path(tmp))
            (office.ASSETS / name).write_bytes(data)
            manifest[name] = {"sha256": hashlib.sha256(data).hexdigest(),
                              "figures_sha256": office.figures_digest(report.title, report.era, report.facts)}
            problems = parsed_matches(data, name, report)
            failed |= bool(problems)
            print(f"{name}: {len(data)} bytes, {len(report.facts)} facts, "
                  + ("parsed back exactly" if not problems else "DIFFERS: " + "; ".join(problems)[:400]))
    office.MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
