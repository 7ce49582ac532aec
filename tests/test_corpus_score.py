"""The real-corpus score of `disclosure parse` (../shared/tools/score_corpus.py) is 100%
apart from the entries disputed in tests/corpus_disputes.tsv, each with its evidence."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.corpus_truth import disputed as disputed_entries

pytestmark = pytest.mark.slow  # the real corpus, scored through the CLI

PROJECT = Path(__file__).resolve().parents[1]
SCORER = PROJECT.parent / "shared" / "tools" / "score_corpus.py"


def test_corpus_score_is_complete_apart_from_disputes(corpus_dir):
    if not SCORER.exists():
        pytest.skip("../shared/tools/score_corpus.py is absent")
    disputed = disputed_entries()
    disclosure = Path(sys.executable).with_name("disclosure")
    done = subprocess.run([sys.executable, str(SCORER), "--corpus", str(corpus_dir), "--cmd", str(disclosure) + " parse"],
                          capture_output=True, text=True, timeout=600)
    misses = set(re.findall(r"^  miss (\S+) (\S+):", done.stdout, flags=re.M))
    assert "no usable output" not in done.stdout, done.stdout[-3000:]
    assert misses <= disputed, f"undisputed misses: {sorted(misses - disputed)}\n{done.stdout[-3000:]}"
    hits, total = map(int, re.search(r"^score: (\d+)/(\d+)", done.stdout, flags=re.M).groups())
    assert hits == total - len(misses)
    assert total - hits <= len(disputed)
