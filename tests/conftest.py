import json
import os
import shutil
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


class SessionParseCache:
    """One parse cache (warehouse.stages.parse_archive: a result per body sha256, per parser version) for
    the tests that parse the demo portal's crawls: each parses what no earlier test did, so the portal's
    scanned reports are read by OCR once a session, not once a test (and OCR figures, which depend on
    the load of the machine when a page's time runs short, are the same in every warehouse)."""

    def __init__(self, root: Path):
        self.root = root

    def seed(self, parsed_dir: Path) -> None:
        """Before a parse into `parsed_dir`: the results the session has."""
        self._copy(self.root, Path(parsed_dir) / "_cache")

    def keep(self, parsed_dir: Path) -> None:
        """After it: what it parsed, for the next test."""
        self._copy(Path(parsed_dir) / "_cache", self.root)

    @staticmethod
    def _copy(source: Path, target: Path) -> None:
        for path in source.glob("*/*.json"):     # <parser version>/<key>.json; never a worker's .tmp
            out = target / path.relative_to(source)
            if not out.exists():
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, out)


@pytest.fixture(scope="session")
def parse_cache(tmp_path_factory) -> SessionParseCache:
    return SessionParseCache(tmp_path_factory.mktemp("parse_cache"))


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, parse_cache):
    """The demo as `disclosure demo` runs it on the portal served on 127.0.0.1: a first crawl,
    then (the portal's round 2: a report edited in place) the whole Dagster job with a crawl
    that revisits every archived report: (paths, answer key, result)."""
    from dagster import DagsterInstance

    from demo_portal.generate import generate_portal
    from demo_portal.server import serve_portal
    from pipelines.definitions import defs
    from app.demo import demo_resources, first_crawl
    from warehouse.storage.paths import DataPaths

    root = tmp_path_factory.mktemp("demo")
    portal = root / "portal"
    generate_portal(portal)
    paths = DataPaths(root / "data")
    parse_cache.seed(paths.parsed)
    with serve_portal(portal / "site") as server:
        first_crawl(paths, portal, server.base_url)
        server.set_round(2)
        result = defs.resolve_job_def("crawl_parse_build").execute_in_process(
            resources=demo_resources(paths, portal, server.base_url, revisit_days=0),
            instance=DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success
    parse_cache.keep(paths.parsed)
    key = json.loads((portal / "answer_key.json").read_text(encoding="utf-8"))
    return paths, key, result
