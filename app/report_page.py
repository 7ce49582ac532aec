"""`disclosure report`: a static HTML page of charts for chosen agencies and years.

Plotly's JavaScript is inlined once, so the page renders offline with no CDN.
"""
from __future__ import annotations

import html
from pathlib import Path

from app.analyst import (
    MartFilter, absent_table, check_output, check_warehouse, connect_read_only, has_table, read_mart, select_table,
    write_atomically,
)
from app.console import UserError
from app.scorecard import SCORECARD

SECTIONS = (
    ("申请数量与办理结果 Requests and outcomes",
     ("requests_received", "granted_full", "granted_part", "withheld", "unavailable", "not_handled")),
    ("行政复议与行政诉讼 Reconsiderations and lawsuits",
     ("reconsiderations_total", "reconsiderations_corrected", "lawsuits_total", "lawsuits_corrected")),
    ("主动公开 Proactive disclosure", ("proactive_items", "rules_issued", "normative_documents_issued")),
)


def _figure(rows: list[dict], measures: tuple[str, ...], title: str):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from app.analyst import MART_LABELS_ZH

    agencies = sorted({r["agency_name"] for r in rows})
    fig = make_subplots(rows=1, cols=len(measures), subplot_titles=[MART_LABELS_ZH[m] for m in measures],
                        horizontal_spacing=0.04)
    for col, measure in enumerate(measures, start=1):
        for i, agency in enumerate(agencies):
            points = [(r["report_year"], r[measure]) for r in rows if r["agency_name"] == agency]
            fig.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines+markers",
                                     name=agency, legendgroup=agency, showlegend=col == 1,
                                     line={"color": _COLOURS[i % len(_COLOURS)]}), row=1, col=col)
    fig.update_layout(title=title, height=360, margin={"l": 40, "r": 20, "t": 80, "b": 40})
    return fig


def _check_figure(rows: list[dict]):
    import plotly.graph_objects as go

    agencies = sorted({r["agency_name"] for r in rows})
    years = sorted({r["report_year"] for r in rows})
    status = {(r["agency_name"], r["report_year"]): 0 if r["failed_any_check"] else 1 for r in rows}
    z = [[status.get((a, y)) for y in years] for a in agencies]
    fig = go.Figure(go.Heatmap(z=z, x=years, y=agencies, zmin=0, zmax=1, showscale=False,
                               colorscale=[[0, "#d62728"], [1, "#2ca02c"]], xgap=2, ygap=2))
    fig.update_layout(title="报告自洽校验 Reports' own checks (green passed, red failed, blank no report)",
                      height=120 + 28 * len(agencies), margin={"l": 220, "r": 20, "t": 60, "b": 40})
    return fig


_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
            "#bcbd22", "#17becf")


# The scorecard section: mart_scorecard's timeliness statuses, in this order and colour.
SCORECARD_TITLE = "评分表 Scorecard"
STATUS_COLOURS = {"on_time": "#2ca02c", "late": "#ff7f0e", "missing": "#d62728", "date_unknown": "#7f7f7f"}
STATUS_LABELS = {"on_time": "按时 on time", "late": "逾期 late", "missing": "未发布 missing",
                 "date_unknown": "日期不明 date unknown"}
SCORECARD_READ = ("agency_id", "agency_name", "report_year", "timeliness_status", "score")


def read_scorecard(db_path: str | Path, flt: MartFilter) -> tuple[list[dict] | None, str]:
    """The filtered rows of mart_scorecard, or None and why not (a warehouse built before the table)."""
    import duckdb

    with connect_read_only(db_path) as con:
        if not has_table(con, SCORECARD.name):
            return None, str(absent_table(db_path, SCORECARD.name))
        try:
            return select_table(con, SCORECARD, flt, SCORECARD_READ).to_arrow_table().to_pylist(), ""
        except (duckdb.CatalogException, duckdb.BinderException) as exc:
            return None, (f"{db_path} has no usable {SCORECARD.name} ({str(exc).strip().splitlines()[0]}): "
                          f"rebuild it with `disclosure build --force`")


def _score_figure(rows: list[dict]):
    """Score per agency and year (0 red … 100 green), each cell labelled with its score and status."""
    import plotly.graph_objects as go

    agencies = sorted({r["agency_name"] for r in rows})
    years = sorted({r["report_year"] for r in rows})
    cell = {(r["agency_name"], r["report_year"]): r for r in rows}
    z = [[(cell[(a, y)]["score"] if (a, y) in cell else None) for y in years] for a in agencies]
    text = [[(f"{cell[(a, y)]['score']:.0f}<br>{STATUS_LABELS.get(cell[(a, y)]['timeliness_status'], '')}"
              if (a, y) in cell and cell[(a, y)]["score"] is not None else "") for y in years] for a in agencies]
    fig = go.Figure(go.Heatmap(z=z, x=years, y=agencies, zmin=0, zmax=100, text=text, texttemplate="%{text}",
                               colorscale=[[0, "#d62728"], [0.5, "#ffdd57"], [1, "#2ca02c"]], xgap=2, ygap=2,
                               colorbar={"title": {"text": "得分"}}))
    fig.update_layout(title="评分 Score per agency and year (0-100; blank: not expected to report)",
                      height=140 + 36 * len(agencies), margin={"l": 220, "r": 20, "t": 60, "b": 40},
                      xaxis={"type": "category"}, yaxis={"autorange": "reversed"})
    return fig


def _status_figure(rows: list[dict]):
    """How many of the chosen agencies published on time, late, not at all or at an unknown date, per year."""
    import plotly.graph_objects as go

    years = sorted({r["report_year"] for r in rows})
    fig = go.Figure()
    for status, colour in STATUS_COLOURS.items():
        counts = [sum(1 for r in rows if r["report_year"] == y and r["timeliness_status"] == status) for y in years]
        fig.add_trace(go.Bar(x=years, y=counts, name=STATUS_LABELS[status], marker={"color": colour}))
    fig.update_layout(barmode="stack", title="发布时效 Timeliness of the reports per year", height=360,
                      margin={"l": 40, "r": 20, "t": 80, "b": 40}, xaxis={"type": "category"},
                      yaxis={"title": {"text": "报告数 reports"}})
    return fig


def scorecard_section(db_path: str | Path, flt: MartFilter) -> tuple[str, list]:
    """The section's heading and note as HTML, and its figures (none when there is nothing to chart)."""
    rows, why_not = read_scorecard(db_path, flt)
    heading = f"<h2>{html.escape(SCORECARD_TITLE)}</h2>"
    if rows is None:
        return heading + f"<p class='scorecard-note'>{html.escape(why_not)}</p>", []
    if not rows:
        return heading + "<p class='scorecard-note'>No row of mart_scorecard matches the chosen agencies and years.</p>", []
    scores = [r["score"] for r in rows if r["score"] is not None]
    mean = f"{sum(scores) / len(scores):.1f}" if scores else "n/a"
    counts = ", ".join(f"{STATUS_LABELS[s]} {sum(1 for r in rows if r['timeliness_status'] == s)}" for s in STATUS_COLOURS)
    note = (f"<p class='scorecard-note'>{len(rows)} agency-years expected to report; mean score {mean}; "
            f"{html.escape(counts)}</p>")
    return heading + note, [_score_figure(rows), _status_figure(rows)]


def write_report_page(db_path: str | Path, output: str | Path, flt: MartFilter, force: bool = False) -> int:
    """Write the page; returns how many agency-year rows it shows. The output obeys the rules of
    `analyst.check_output` (not in the data directory, not over an existing file unless `force`)."""
    check_warehouse(db_path)
    target = check_output(output, db_path, force)
    rows = read_mart(db_path, flt).to_pylist()
    if not rows:
        raise UserError("no rows of mart_agency_year match the filter: nothing written")
    figures = [_figure(rows, measures, title) for title, measures in SECTIONS] + [_check_figure(rows)]
    scorecard_html, scorecard_figures = scorecard_section(db_path, flt)
    parts = [fig.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, fig in enumerate(figures)]
    parts += [scorecard_html] + [fig.to_html(full_html=False, include_plotlyjs=False) for fig in scorecard_figures]
    agencies = ", ".join(sorted({r["agency_name"] for r in rows}))
    years = sorted({r["report_year"] for r in rows})
    page = (f"<!doctype html><html lang='zh'><head><meta charset='utf-8'>"
            f"<title>政府信息公开年度报告对比</title></head><body style='font-family:sans-serif'>"
            f"<h1>政府信息公开工作年度报告 · 对比</h1><p>{html.escape(agencies)}; {years[0]}–{years[-1]}</p>"
            + "".join(parts) + "</body></html>")
    write_atomically(target, lambda tmp: tmp.write_text(page, encoding="utf-8"), output)
    return len(rows)
