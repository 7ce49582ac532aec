"""Synthetic inputs at sizes no crawl here can reach, made from real parse output.

- synth_parsed(template_dir, out_dir, n_reports): the parsed Parquet datasets of a real
  parse_archive run replicated to n_reports reports: copy c gets new report_ids
  (sha256 of old id + copy), agency_ids (`<id>-s<c>`), agency names (`<name>·<c>`), URLs and
  content hashes; years, eras, facts (~110 per report), checks stay as parsed. Written with
  pyarrow in the schemas of warehouse/storage/schemas.py, one file per report_year in the layout of
  warehouse.storage.parsed (PARSED/current -> PARSED/@synth).
- synth_parse_cache(template_parsed, archive_dir, parsed_dir, n_docs): a raw archive manifest
  of n_docs report fetches plus a parse cache holding a real parse JSON for each (with a new
  text_sha256, so each is its own report): parse_archive then runs its full path over
  n_docs documents (from the cache: the parser is not what is measured).
"""
from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from warehouse import parser_fingerprint
from warehouse.storage.schemas import DATASETS, RAW_MANIFEST_SCHEMA
from warehouse.storage.parsed import CURRENT, current_version


def dataset_root(parsed_dir: Path) -> Path:
    """Where a parse run's datasets are: PARSED/current (warehouse.storage.parsed), else PARSED itself."""
    current = current_version(parsed_dir)
    return current.resolve() if current.exists() else Path(parsed_dir)


def read_dataset(parsed_dir: Path, name: str) -> pa.Table:
    schema, _ = DATASETS[name]
    files = sorted((dataset_root(parsed_dir) / name).resolve().rglob("*.parquet"))
    return pa.concat_tables([pq.read_table(f, schema=schema) for f in files]).combine_chunks()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _replace(table: pa.Table, name: str, array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, array)


def synth_parsed(template_dir: Path, parsed_dir: Path, n_reports: int) -> dict:
    """Write PARSED/@synth/<dataset>/… and point PARSED/current at it (the layout of warehouse.storage.parsed)."""
    template_dir, parsed_dir = Path(template_dir), Path(parsed_dir)
    out_dir = parsed_dir / "@synth"
    reports = read_dataset(template_dir, "reports")
    r = reports.num_rows
    copies = -(-n_reports // r)
    template_ids = reports.column("report_id").to_pylist()
    template_agencies = reports.column("agency_id").to_pylist()
    template_names = reports.column("agency_name").to_pylist()

    def limit(c: int) -> int:  # reports of the template used by copy c (the last copy is cut)
        return min(r, n_reports - c * r)

    new_ids = [pa.array([_sha(f"{rid}:{c}") for rid in template_ids], pa.string()) for c in range(copies)]
    counts = {}
    for name in ("reports", "facts", "checks", "report_sources"):
        table = reports if name == "reports" else read_dataset(template_dir, name)
        idx = pc.index_in(table.column("report_id"), value_set=reports.column("report_id"))
        table = table.filter(pc.is_valid(idx))
        idx = pc.index_in(table.column("report_id"), value_set=reports.column("report_id"))
        schema, _ = DATASETS[name]
        total = 0
        years = sorted(set(table.column("report_year").to_pylist()))
        for year in years:
            mask = pc.equal(table.column("report_year"), year)
            part, part_idx = table.filter(mask), idx.filter(mask)
            pieces = []
            for c in range(copies):
                keep = pc.less(part_idx, limit(c))
                p, pi = part.filter(keep), part_idx.filter(keep)
                if not p.num_rows:
                    continue
                p = _replace(p, "report_id", new_ids[c].take(pi))
                if name == "reports":
                    p = _replace(p, "agency_id", pa.array([f"{template_agencies[i]}-s{c}" for i in pi.to_pylist()]))
                    p = _replace(p, "agency_name", pa.array([f"{template_names[i]}·{c}" if template_names[i] else None
                                                             for i in pi.to_pylist()], pa.string()))
                if name in ("reports", "report_sources"):
                    p = _replace(p, "url", pc.binary_join_element_wise(p.column("url"), pa.scalar(f"?s={c}"), ""))
                    p = _replace(p, "content_sha256", pa.array([_sha(f"{s}:{c}") for s in p.column("content_sha256").to_pylist()]))
                if name == "report_sources":
                    p = _replace(p, "final_url", pc.binary_join_element_wise(p.column("final_url"), pa.scalar(f"?s={c}"), ""))
                pieces.append(p)
            out = pa.concat_tables(pieces).cast(schema)
            folder = out_dir / name / f"report_year={year}"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(out, folder / "part.parquet")
            total += out.num_rows
        counts[name] = total
    # agencies: one copy of every agency per report copy
    agencies = read_dataset(template_dir, "agencies")
    rows = agencies.to_pylist()
    out_rows = []
    for c in range(copies):
        for a in rows:
            out_rows.append({**a, "agency_id": f"{a['agency_id']}-s{c}", "agency_name": f"{a['agency_name']}·{c}",
                             "names": [f"{n}·{c}" for n in a["names"] or []],
                             "parent_agency_id": f"{a['parent_agency_id']}-s{c}" if a["parent_agency_id"] else None})
    schema, _ = DATASETS["agencies"]
    (out_dir / "agencies").mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(out_rows, schema=schema), out_dir / "agencies" / "part.parquet")
    counts["agencies"] = len(out_rows)
    for name in ("quarantine", "metrics"):
        (out_dir / name).mkdir(parents=True, exist_ok=True)
        pq.write_table(read_dataset(template_dir, name), out_dir / name / "part.parquet")
    os.symlink(out_dir.name, parsed_dir / CURRENT)
    return counts


def cache_folder(parsed_dir: Path) -> Path:
    """The parse cache of the current parser (its folder name is the parser's version or fingerprint)."""
    return Path(parsed_dir) / "_cache" / parser_fingerprint()


def synth_parse_cache(template_parsed: Path, archive_dir: Path, parsed_dir: Path, n_docs: int) -> dict:
    """Manifest of n_docs report fetches + a parse cache entry for each (real parse JSONs, replicated)."""
    cache_src = cache_folder(template_parsed)
    templates = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(cache_src.glob("*.json"))]
    templates = [t for t in templates if t.get("facts")]
    if not templates:
        raise RuntimeError(f"no parse results with facts in {cache_src}")
    cache_dir = Path(parsed_dir) / "_cache" / cache_src.name
    cache_dir.mkdir(parents=True, exist_ok=True)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    rows, facts = [], 0
    for i in range(n_docs):
        doc = dict(templates[i % len(templates)])
        sha = _sha(f"doc:{i}")
        doc["text_sha256"] = _sha(f"text:{i}")
        doc["content_sha256"] = sha
        facts += len(doc["facts"])
        (cache_dir / f"{sha}.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        url = f"http://127.0.0.1:1/synth/{i}.html"
        rows.append({"url": url, "final_url": url, "status": 200, "content_type": "text/html; charset=utf-8",
                     "encoding": "utf-8", "sha256": sha, "size": 30000, "fetched_at": start + timedelta(milliseconds=i),
                     "source_id": "synth", "link_title": doc.get("title"), "referer": "http://127.0.0.1:1/synth/",
                     "kind": "report", "run_id": "synth", "error": None})
    manifest = Path(archive_dir) / "manifest"
    manifest.mkdir(parents=True, exist_ok=True)
    table = pa.table({f.name: pa.array([r[f.name] for r in rows], f.type) for f in RAW_MANIFEST_SCHEMA},
                     schema=RAW_MANIFEST_SCHEMA)
    pq.write_table(table, manifest / "crawl-synth.parquet")
    return {"documents": n_docs, "facts": facts, "cache_bytes": sum(f.stat().st_size for f in os.scandir(cache_dir))}
