"""The real corpus: prose-era figures of TRUTH.tsv, and every file parses."""
from pathlib import Path

import pytest

from tests.corpus_truth import CORPUS, META, figure, undisputed_truth
from warehouse.parse import parse_file

pytestmark = pytest.mark.slow  # the real corpus

PROSE_FILES = ("000", "008", "010", "013", "020", "021", "022", "026", "027", "028", "030", "031", "032",
               "1001", "1003", "1007", "1008", "1010", "1012", "1021", "1023", "1025", "1027")

if not CORPUS.is_dir():
    pytest.skip("corpus not present", allow_module_level=True)


def _truth() -> dict[str, list[tuple[str, str]]]:
    return {name: rows for name, rows in undisputed_truth().items() if name.split("-")[0] in PROSE_FILES}


@pytest.mark.parametrize("name,expected", sorted(_truth().items()))
def test_prose_truth(name, expected):
    report = parse_file(CORPUS / name)
    facts = {f.key: f.value for f in report.facts}
    for metric, want in expected:
        if metric in META:
            assert str(getattr(report, metric)) == want, metric
        else:
            assert figure(facts, metric) == float(want), metric


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
