"""The real corpus's hand-read figures (../shared/corpus/TRUTH.tsv), for the tests that read it.

The map from TRUTH metrics to fact keys is the scorer's own (shared/tools/score_corpus.py),
so tests and scorer can never disagree on what a metric means. Entries listed in
tests/corpus_disputes.tsv (figures their document does not support) are left out.
"""
from __future__ import annotations

import csv
import importlib.util
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"
DISPUTES = Path(__file__).parent / "corpus_disputes.tsv"
META = ("report_year", "era")


def tsv_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@lru_cache(maxsize=1)
def scorer_metrics() -> dict:
    spec = importlib.util.spec_from_file_location("score_corpus", SHARED / "tools" / "score_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.METRICS


def disputed() -> set[tuple[str, str]]:
    return {(r["file"], r["metric"]) for r in tsv_rows(DISPUTES)}


def undisputed_truth() -> dict[str, list[tuple[str, str]]]:
    """{file: [(metric, value)]} of TRUTH.tsv without the disputed entries ({} without the corpus)."""
    if not (CORPUS / "TRUTH.tsv").exists():
        return {}
    skip = disputed()
    truth = defaultdict(list)
    for row in tsv_rows(CORPUS / "TRUTH.tsv"):
        if (row["file"], row["metric"]) not in skip:
            truth[row["file"]].append((row["metric"], row["value"]))
    return dict(truth)


def figure(facts: dict, metric: str):
    """The value a fact index {(table, dim1, dim2): value} gives a TRUTH metric, or None."""
    return next((facts[k] for k in scorer_metrics()[metric] if k in facts), None)
