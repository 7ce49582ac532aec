"""The real corpus: prose-era figures of TRUTH.tsv, and every file parses."""
import csv
from collections import defaultdict
from pathlib import Path

import pytest

from warehouse.parse import parse_file

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
DISPUTES = Path(__file__).parent / "corpus_disputes.tsv"
PROSE_FILES = ("000", "008", "010", "013", "020", "021", "022", "026", "027", "028", "030", "031", "032",
               "1001", "1003", "1007", "1008", "1010", "1012", "1021", "1023", "1025", "1027")
FACT_KEYS = {
    "requests_total_prose": ("requests", "received_new", "total"),
    "granted_total": ("requests", "granted", "total"),
    "review_total": ("reviews", "reconsideration", "total"),
    "litigation_total": ("reviews", "litigation", "total"),
    "proactive_items_total": ("proactive", "all_items", "count"),
}

if not CORPUS.is_dir():
    pytest.skip("corpus not present", allow_module_level=True)


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _truth() -> dict[str, list[tuple[str, str]]]:
    disputed = {(r["file"], r["metric"]) for r in _rows(DISPUTES)} if DISPUTES.exists() else set()
    truth = defaultdict(list)
    for row in _rows(CORPUS / "TRUTH.tsv"):
        if row["file"].split("-")[0] in PROSE_FILES and (row["file"], row["metric"]) not in disputed:
            truth[row["file"]].append((row["metric"], row["value"]))
    return truth


def _needs_html_loader(name: str) -> bool:
    return name.endswith(".html")


@pytest.mark.parametrize("name,expected", sorted(_truth().items()))
def test_prose_truth(name, expected):
    report = parse_file(CORPUS / name)
    if _needs_html_loader(name) and report.era is None:
        pytest.skip("HTML loader not ready")
    facts = {f.key: f.value for f in report.facts}
    for metric, want in expected:
        if metric in ("report_year", "era"):
            assert str(getattr(report, metric)) == want, metric
        else:
            assert facts.get(FACT_KEYS[metric]) == float(want), metric


def _corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.suffix in (".txt", ".html", ".pdf") and p.name[0].isdigit())


@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: p.name)
def test_every_file_parses_into_era_and_year_or_a_note(path):
    report = parse_file(path)
    assert (report.era and report.report_year) or report.notes, report.to_json()


@pytest.mark.parametrize("prefix", ["010", "013", "020", "021", "022", "026", "027", "030", "032"])
def test_prose_files_without_truth_figures_are_prose_of_their_year(prefix):
    path = next(CORPUS.glob(f"{prefix}-*.txt"))
    year = int(path.stem.rsplit("-", 1)[1])
    report = parse_file(path)
    assert (report.era, report.report_year) == ("prose", year)


def test_listing_page_is_no_report():
    report = parse_file(next(CORPUS.glob("014-*.html")))
    assert report.era is None and report.report_year is None and report.notes
