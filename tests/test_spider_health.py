"""A fall in reports per source versus the last full walk is caught; quiet incremental nights
and partial walks are not mistaken for one; full walks come round again."""
import json
from datetime import datetime, timezone

from spiders.health import (
    hosts_cut_off, latest_full_walks, reports_reached, sources_due_a_full_walk, sources_that_dropped,
)


def summary(run_id, finished, **sources):
    return {"run_id": run_id, "finished_at": finished, "sources": sources}


def write(archive, *summaries):
    manifest = archive / "manifest"
    manifest.mkdir(exist_ok=True)
    for s in summaries:
        (manifest / f"crawl-{s['run_id']}.summary.json").write_text(json.dumps(s))


def test_reports_reached_counts_archived_reports():
    assert reports_reached({"reports": 0, "already_archived": 40, "report_links_found": 40}) == 40
    assert reports_reached({"reports": 3, "already_archived": 0}) == 3


def test_a_fall_beyond_the_share_is_reported():
    before = {"county": {"report_links_found": 40}, "city": {"report_links_found": 10}}
    now = summary("b", "2", county={"report_links_found": 12}, city={"report_links_found": 9},
                  new={"report_links_found": 0})
    assert sources_that_dropped(before, now, 0.5) == {"county": (40, 12)}
    assert sources_that_dropped(before, now, 0.8) == {}
    assert sources_that_dropped({}, now, 0.5) == {}


def test_a_partial_walk_is_not_compared():
    before = {"county": {"report_links_found": 40}}
    now = summary("b", "2", county={"report_links_found": 5, "already_archived": 5, "listing_walk": "partial"})
    assert sources_that_dropped(before, now, 0.5) == {}


def test_the_baseline_is_each_sources_latest_full_walk(tmp_path):
    write(tmp_path,
          summary("r1", "2026-01-01T00:00:00+00:00", county={"report_links_found": 40}, city={"report_links_found": 9}),
          summary("r2", "2026-01-02T00:00:00+00:00", county={"report_links_found": 41},
                  city={"report_links_found": 2, "listing_walk": "partial"}),
          summary("r3", "2026-01-03T00:00:00+00:00", county={"report_links_found": 3}),
          {**summary("r4", "2026-01-04T00:00:00+00:00", county={"report_links_found": 1}), "finish_reason": "shutdown"})
    walks = latest_full_walks(tmp_path, "r3")
    assert walks["county"]["report_links_found"] == 41 and walks["county"]["finished_at"].startswith("2026-01-02")
    assert walks["city"]["report_links_found"] == 9  # r2 walked the city partly: r1 stays its baseline
    assert latest_full_walks(tmp_path)["county"]["report_links_found"] == 3
    assert latest_full_walks(tmp_path / "nothing") == {}


def test_sources_due_a_full_walk(tmp_path):
    now = datetime(2026, 1, 10, tzinfo=timezone.utc)
    walks = {"county": {"finished_at": "2026-01-09T00:00:00+00:00"}, "city": {"finished_at": "2026-01-01T00:00:00+00:00"}}
    assert sources_due_a_full_walk(["county", "city", "new"], walks, 7, now) == {"city", "new"}
    assert sources_due_a_full_walk(["county"], walks, 0, now) == {"county"}


def test_a_walk_cut_by_an_open_circuit_is_compared_but_no_baseline(tmp_path):
    """A host that stopped answering: the fall is reported that night, and the next night is
    still measured against the last healthy full walk."""
    dead = {"report_links_found": 2, "circuit_skipped": 38, "hosts_cut_off": ["www.x.gov.cn:443"]}
    cut = {**summary("r2", "2026-01-02T00:00:00+00:00", county=dead),
           "circuits": {"www.x.gov.cn:443": {"circuit": "open", "opened": 1, "failures_in_a_row": 5},
                        "www.y.gov.cn:443": {"circuit": "closed", "opened": 0, "failures_in_a_row": 1}}}
    write(tmp_path, summary("r1", "2026-01-01T00:00:00+00:00", county={"report_links_found": 40}), cut)
    walks = latest_full_walks(tmp_path)
    assert walks["county"]["report_links_found"] == 40
    assert sources_that_dropped(walks, cut, 0.5) == {"county": (40, 2)}
    assert list(hosts_cut_off(cut)) == ["www.x.gov.cn:443"]
    assert hosts_cut_off(summary("r3", "3")) == {}
