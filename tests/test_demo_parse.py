"""Every report file of the demo portal, parsed directly (no crawl), gives exactly the answer key."""
import json

import pytest

from demo_portal.generate import generate_portal
from demo_portal.verify import verify_portal_parse

pytestmark = pytest.mark.slow  # generates and parses the demo portal


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    out = tmp_path_factory.mktemp("portal")
    generate_portal(out)
    return out, json.loads((out / "answer_key.json").read_text(encoding="utf-8"))


def test_every_demo_report_parses_to_the_answer_key(portal):
    out, key = portal
    problems = verify_portal_parse(out, key)
    sample = {path: {k: str(v)[:300] for k, v in diff.items()} for path, diff in list(problems.items())[:5]}
    assert not problems, f"{len(problems)} of {len(key['reports'])} reports differ: {json.dumps(sample, ensure_ascii=False, indent=1)}"
