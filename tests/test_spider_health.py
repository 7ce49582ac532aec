"""A fall in reports per source versus the previous run is caught; quiet incremental nights are not."""
import json

from spiders.health import previous_summary, reports_reached, sources_that_dropped


def summary(run_id, finished, **sources):
    return {"run_id": run_id, "finished_at": finished, "sources": sources}


def test_reports_reached_counts_archived_reports():
    assert reports_reached({"reports": 0, "already_archived": 40, "report_links_found": 40}) == 40
    assert reports_reached({"reports": 3, "already_archived": 0}) == 3


def test_a_fall_beyond_the_share_is_reported():
    before = summary("a", "1", county={"report_links_found": 40}, city={"report_links_found": 10})
    now = summary("b", "2", county={"report_links_found": 12}, city={"report_links_found": 9},
                  new={"report_links_found": 0})
    assert sources_that_dropped(before, now, 0.5) == {"county": (40, 12)}
    assert sources_that_dropped(before, now, 0.8) == {}
    assert sources_that_dropped(None, now, 0.5) == {}


def test_previous_summary_is_the_latest_other_run(tmp_path):
    manifest = tmp_path / "manifest"
    manifest.mkdir()
    for run_id, finished in (("r1", "2026-01-01T00:00:00"), ("r2", "2026-01-02T00:00:00"), ("r3", "2026-01-03T00:00:00")):
        (manifest / f"crawl-{run_id}.summary.json").write_text(json.dumps(summary(run_id, finished)))
    assert previous_summary(tmp_path, "r3")["run_id"] == "r2"
    assert previous_summary(tmp_path / "nothing", "r1") is None
