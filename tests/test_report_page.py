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
from app.analyst import MART_LABELS_ZH
from app.report_page import SECTIONS
from tests.warehouse_fixture import demo_warehouse  # noqa: F401  (session fixture)

pytestmark = pytest.mark.slow  # builds a warehouse, renders in a browser

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
    assert html.count("Plotly.newPlot(") == len(SECTIONS) + 1
    # one chart per section plus the checks heatmap
    assert len(parser.chart_divs) == len(SECTIONS) + 1, parser.chart_divs
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
