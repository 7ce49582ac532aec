"""Parse one document (any kind of warehouse.parse.formats) into a ParsedReport.

    load_document      bytes -> Document (text + table grids), any input kind
    detect_* (metadata) era (warehouse.eras), report year, agency, title from content
    parse_table_facts  table layouts: grids of tables 二/三/四 -> facts
    parse_flat_tables  table layouts: tables flattened into text -> facts
    read_prose         sentences (every era) and the 2008 statistics table (prose layout) -> facts
    evaluate_checks    the reports' identities
"""
from __future__ import annotations

import bisect
import hashlib
from pathlib import Path

from warehouse.checks import evaluate_checks, statements_agree
from warehouse.eras import era_named
from warehouse.facts import ParsedReport, dedupe_facts
from warehouse.parse.documents import Document, UnsupportedDocument
from warehouse.parse.formats import FORMATS, load_document
from warehouse.parse.numbers import normalise_label
from warehouse.parse.ocr import flag_ocr_facts, is_ocr_document
from warehouse.parse.metadata import detect_agency, detect_era, detect_published, detect_title, detect_year
from warehouse.parse.prose import ProseStatements, read_prose
from warehouse.parse.tables import parse_table_facts
from warehouse.parse.text_tables import FLAT_TABLES, parse_flat_tables

__all__ = ["parse_bytes", "parse_file", "parse_document", "Document"]


def parse_document(doc: Document) -> ParsedReport:
    era = detect_era(doc)
    era_def = era_named(era) if era else None
    published_date, published_date_source = detect_published(doc)
    report = ParsedReport(
        report_year=detect_year(doc), agency_name=detect_agency(doc), era=era,
        title=detect_title(doc), published_date=published_date, published_date_source=published_date_source,
        input_kind=doc.kind, notes=list(doc.notes),
        text_sha256=hashlib.sha256(normalise_label(doc.text).encode("utf-8")).hexdigest(),
    )
    if era_def is not None and era_def.has_tables:
        tables = parse_table_facts(doc.tables, era)
        # Tables flattened to text (PDF text, crawler dumps) fill what grids did not give.
        tables += _flat_table_facts(doc, era, _tables_left_to_text(doc, tables), tables)
        # Sentences state what a table left out (or the tables are images, or cut).
        prose = read_prose(doc.text, era, norm=doc.normalised)
    elif era_def is not None:
        prose = read_prose(doc.text, era, tables=doc.tables, norm=doc.normalised)
        tables = prose.tables
    else:
        tables, prose = [], ProseStatements([], [], [])
        report.notes.append("no report content recognised (era unknown)")
    # A table's figure wins over a sentence's, the topic's own section over others.
    report.facts = dedupe_facts(tables + prose.sentences)
    if era and not report.facts:
        report.notes.append("no figures found: tables may be images or the text is cut")
    report.checks = evaluate_checks(report.facts, era)
    agree = statements_agree({"table": tables, "text": prose.sentences, "text elsewhere": prose.elsewhere})
    report.checks += [agree] if agree else []
    if is_ocr_document(doc) or any(getattr(t, "ocr", False) for t in doc.tables):
        # figures read by OCR: provenance in their source, approximate unless an identity confirms them
        confirmed = flag_ocr_facts(report.facts, doc, era)
        flagged = sum(f.approximate for f in report.facts if " ocr" in f.source)
        report.notes.append(f"{confirmed} OCR figures confirmed by the report's identities,"
                            f" {flagged} flagged approximate")
    return report


def _flat_table_facts(doc: Document, era: str, tables: tuple[str, ...], grid_facts: list) -> list:
    """Tables flattened into text, read on the normalised text (mirrors in traditional
    script, full-width digits); sources and printed labels point back into doc.text."""
    norm = doc.normalised
    grids_at = None if doc.grids_text_at is None else bisect.bisect_left(norm.offsets, doc.grids_text_at)
    facts = parse_flat_tables(norm.text, era, tables, grids_at, frozenset(f.table for f in grid_facts))
    for fact in facts:
        start, end = map(int, fact.source.removeprefix("text!").split("-"))
        fact.source = norm.source(start, end)
        at = norm.text.rfind(fact.label_zh, 0, start) if fact.label_zh else -1
        if at >= 0:
            fact.label_zh = doc.text[slice(*norm.original_span(at, at + len(fact.label_zh)))]
    return facts


def _tables_left_to_text(doc: Document, grid_facts: list) -> tuple[str, ...]:
    """Tables for parse_flat_tables: those the grids did not give, where the document's text
    renders the same grids (Format.text_renders_grids: reading those cells again would only
    be dropped by dedupe). PDF and OCR text comes from its own extraction, and a grid cut at
    a page break can miss rows the text has, so those read every table from the text too."""
    if not FORMATS[doc.kind].text_renders_grids:
        return FLAT_TABLES
    given = {f.table for f in grid_facts}
    return tuple(t for t in FLAT_TABLES if t not in given)


def parse_bytes(data: bytes, filename: str = "", content_type: str | None = None,
                images=None) -> ParsedReport:
    """One document parsed into a report. `images` [(URL, bytes or a callable giving them)]: those of
    a report page whose tables are images (图片版), read with the page as ONE report (`filename`:
    the page's URL); the content_sha256 is the page's."""
    sha = hashlib.sha256(data).hexdigest()
    try:
        doc = load_document(data, filename=filename, content_type=content_type)
        if images:
            from warehouse.parse.images import with_page_images

            doc = with_page_images(doc, data, filename, images)
    except UnsupportedDocument as exc:
        return ParsedReport(None, None, None, status="unsupported", notes=[str(exc)], content_sha256=sha)
    report = parse_document(doc)
    report.content_sha256 = sha
    return report


def parse_file(path: str | Path) -> ParsedReport:
    path = Path(path)
    return parse_bytes(path.read_bytes(), filename=path.name)

