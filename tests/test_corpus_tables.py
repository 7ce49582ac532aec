"""Table-era corpus files: parse_file must reproduce the hand-read TRUTH.tsv figures."""
import pytest

from tests.corpus_truth import CORPUS, META, figure, tsv_rows, undisputed_truth
from warehouse.parse import parse_file

pytestmark = pytest.mark.slow  # the real corpus



def _table_era_files() -> list[str]:
    if not (CORPUS / "MANIFEST.tsv").exists():
        return []
    return [row["file"] for row in tsv_rows(CORPUS / "MANIFEST.tsv") if row["era"] in ("2019fmt", "2021fmt")]


FILES = _table_era_files()


@pytest.mark.parametrize("name", FILES or ["(corpus absent)"])
def test_table_era_file_matches_truth(name):
    if not FILES:
        pytest.skip(f"corpus not found at {CORPUS}")
    report = parse_file(CORPUS / name)
    assert report.status == "parsed"
    facts = {f.key: f.value for f in report.facts}
    for metric, want in undisputed_truth().get(name, []):
        if metric in META:
            assert str(getattr(report, metric)) == want, metric
        else:
            got = figure(facts, metric)
            assert got is not None and float(got) == float(want), f"{name} {metric}: want {want}, got {got}"
