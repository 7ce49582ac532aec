"""`disclosure report`: a static HTML page of charts that works offline, rendered in headless chromium."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from tests.browser import ensure_cjk_font, png_count_colour, png_is_not_blank, save_copy, screenshot
from app.analyst import MART_LABELS_ZH, MartFilter
from app.report_page import SCORECARD_TITLE, SECTIONS, STATUS_COLOURS, STATUS_LABELS, scorecard_section, write_report_page
from tests.scorecard_fixture import AGENCIES as CARD_AGENCIES, CARDS, build_scorecard_warehouse
from tests.warehouse_fixture import demo_warehouse  # noqa: F401  (session fixture)

DISCLOSURE = Path(sys.executable).with_name("disclosure")
AGENCIES = ("qcs", "lzs")
TRACE_COLOURS = ("#1f77b4", "#ff7f0e")     # report_page._COLOURS of the first two agencies


class Resources(HTMLParser):
    """Every script/link/img/iframe and the URL each one loads, plus the Plotly chart divs."""

    def __init__(self):
        super().__init__()
        self.references: list[tuple[str, str]] = []
        self.inline_scripts = 0
        self.chart_divs: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href", "data", "srcset"):
            if attrs.get(name) and tag in ("script", "link", "img", "iframe", "object", "embed", "source", "video",
                                           "audio"):
                self.references.append((tag, attrs[name]))
        if tag == "script" and not attrs.get("src"):
            self.inline_scripts += 1
        if tag == "div" and "plotly-graph-div" in (attrs.get("class") or ""):
            self.chart_divs.append(attrs.get("id"))


def in_page(text: str, page: str) -> bool:
    """Plotly writes figure JSON with non-ASCII escaped: accept either spelling."""
    return text in page or json.dumps(text)[1:-1] in page


@pytest.mark.slow  # builds a warehouse, renders in a browser
def test_report_page_is_offline_and_renders(demo_warehouse, tmp_path):  # noqa: F811
    page = tmp_path / "page.html"
    cmd = [str(DISCLOSURE), "report", "--output", str(page), "--database", str(demo_warehouse.database)]
    for agency in AGENCIES:
        cmd += ["--agency", agency]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]

    with duckdb.connect(str(demo_warehouse.database), read_only=True) as con:
        expected_rows, names = con.execute(
            "select count(*), list(distinct agency_name order by agency_name) from mart_agency_year "
            "where agency_id in (?, ?)", list(AGENCIES)).fetchone()
    assert expected_rows == 22                 # 11 years (2014-2024) of each agency in the fixture
    assert f"charts of {expected_rows} agency-year rows" in proc.stdout, proc.stdout

    html = page.read_text(encoding="utf-8")
    parser = Resources()
    parser.feed(html)
    # offline: nothing is loaded from the network (plotly.js is inlined once), no CDN anywhere in a tag
    external = [(tag, url) for tag, url in parser.references if re.match(r"(?i)\s*(https?:)?//", url)]
    assert not external, external
    assert not re.search(r"(?i)<script[^>]+src=", html)
    assert len(re.findall(r"\* plotly\.js v\d", html)) == 1, "plotly.js must be inlined exactly once"
    # one chart per section plus the checks heatmap, then the scorecard's two charts (a warehouse built
    # before mart_scorecard existed gets the section's note instead)
    with duckdb.connect(str(demo_warehouse.database), read_only=True) as con:
        has_scorecard = con.execute("select count(*) from information_schema.tables "
                                    "where table_name = 'mart_scorecard'").fetchall()[0][0] == 1
    charts = len(SECTIONS) + 1 + (2 if has_scorecard else 0)
    assert html.count("Plotly.newPlot(") == charts
    assert len(parser.chart_divs) == charts, parser.chart_divs
    assert in_page(SCORECARD_TITLE, html)
    if has_scorecard:
        assert all(in_page(label, html) for label in STATUS_LABELS.values())
    else:
        assert "has no mart_scorecard (a warehouse built by an older version)" in html
    for title, measures in SECTIONS:
        assert in_page(title, html), title
        for measure in measures:
            assert in_page(MART_LABELS_ZH[measure], html), measure
    assert in_page("报告自洽校验", html)
    for name in names:
        assert in_page(name, html), name
    assert "2014–2024" in html

    if not ensure_cjk_font():
        warnings.warn("no CJK font: Chinese labels are boxes on the screenshot (apt-get install fonts-wqy-zenhei)")
    png = screenshot(page, tmp_path / "report_page.png", width=1400, height=1800)
    save_copy(png, "report_page.png")
    assert png_is_not_blank(png), f"blank screenshot of the report page: {png}"
    # the charts were drawn (not just the heading): the traces' colours are on the screenshot
    for colour in TRACE_COLOURS:
        assert png_count_colour(png, colour) > 50, (colour, png)


# --- the scorecard section, on a hand-made warehouse (tests/scorecard_fixture.py) -------------------------------

@pytest.fixture(scope="module")
def card_warehouses(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("cards")
    return (build_scorecard_warehouse(folder / "new.duckdb"),
            build_scorecard_warehouse(folder / "old.duckdb", scorecard=False))


def test_scorecard_section_charts_score_and_timeliness(card_warehouses):
    db, _ = card_warehouses
    heading, figures = scorecard_section(db, MartFilter())
    assert heading.startswith(f"<h2>{SCORECARD_TITLE}</h2>")
    assert ("18 agency-years expected to report; mean score 79.2; 按时 on time 11, 逾期 late 4, "
            "未发布 missing 2, 日期不明 date unknown 1") in heading
    scores, statuses = figures
    heat = scores.data[0]
    names = sorted(v[0] for v in CARD_AGENCIES.values())
    assert list(heat.y) == names and list(heat.x) == [2019, 2020, 2021]
    cell = {(a, y): heat.z[i][j] for i, a in enumerate(heat.y) for j, y in enumerate(heat.x)}
    assert cell[("岚州市财政局", 2020)] == 0.0 and "未发布" in heat.text[names.index("岚州市财政局")][1]
    assert cell[("青川省教育厅", 2020)] == 55.5 and "逾期" in heat.text[names.index("青川省教育厅")][1]
    assert cell == {(CARD_AGENCIES[a][0], y): card[-1] for (a, y), card in CARDS.items()}
    # the stacked bars: agencies per timeliness status and year, in the status colours
    bars = {trace.name: list(trace.y) for trace in statuses.data}
    assert bars == {STATUS_LABELS["on_time"]: [6, 3, 2], STATUS_LABELS["late"]: [0, 2, 2],
                    STATUS_LABELS["missing"]: [0, 1, 1], STATUS_LABELS["date_unknown"]: [0, 0, 1]}
    assert [t.marker.color for t in statuses.data] == list(STATUS_COLOURS.values())
    assert statuses.layout.barmode == "stack"


def test_scorecard_section_follows_the_filter(card_warehouses):
    db, _ = card_warehouses
    heading, figures = scorecard_section(db, MartFilter(agencies=["lzs-czj"], year_from=2020))
    assert "2 agency-years expected to report; mean score 35.0;" in heading
    assert list(figures[0].data[0].y) == ["岚州市财政局"] and list(figures[0].data[0].x) == [2020, 2021]
    heading, figures = scorecard_section(db, MartFilter(regions=["59"], year_to=2018))
    assert figures == [] and "No row of mart_scorecard matches" in heading


def test_report_page_of_a_warehouse_without_the_scorecard_says_so(card_warehouses, tmp_path):
    new, old = card_warehouses
    for db, charts in ((new, len(SECTIONS) + 3), (old, len(SECTIONS) + 1)):
        page = tmp_path / f"{db.stem}.html"
        assert write_report_page(db, page, MartFilter(regions=["5801"])) == 7   # mart_agency_year rows
        html = page.read_text(encoding="utf-8")
        assert html.count("Plotly.newPlot(") == charts
        assert in_page(SCORECARD_TITLE, html) and html.count("<h2>") == 1
        assert ("has no mart_scorecard (a warehouse built by an older version): rebuild it with "
                "`disclosure build`" in html) == (db == old)
        assert len(re.findall(r"\* plotly\.js v\d", html)) == 1
