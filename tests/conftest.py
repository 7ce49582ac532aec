import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Tests never crawl real sites, whatever the environment says.
os.environ.pop("DISCLOSURE_LIVE_CRAWL", None)


@pytest.fixture
def corpus_dir() -> Path:
    if not (CORPUS / "MANIFEST.tsv").exists():
        pytest.skip("../shared/corpus is absent (a fresh clone has no real corpus)")
    return CORPUS
