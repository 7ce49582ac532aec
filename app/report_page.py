"""`disclosure report`: a static HTML page of charts for chosen agencies and years.

Plotly's JavaScript is inlined once, so the page renders offline with no CDN.
"""
from __future__ import annotations

import html
from pathlib import Path

from app.analyst import MartFilter, check_output, check_warehouse, read_mart, write_atomically
from app.console import UserError

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


def write_report_page(db_path: str | Path, output: str | Path, flt: MartFilter, force: bool = False) -> int:
    """Write the page; returns how many agency-year rows it shows. The output obeys the rules of
    `analyst.check_output` (not in the data directory, not over an existing file unless `force`)."""
    check_warehouse(db_path)
    target = check_output(output, db_path, force)
    rows = read_mart(db_path, flt).to_pylist()
    if not rows:
        raise UserError("no rows of mart_agency_year match the filter: nothing written")
    figures = [_figure(rows, measures, title) for title, measures in SECTIONS] + [_check_figure(rows)]
    parts = [fig.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, fig in enumerate(figures)]
    agencies = ", ".join(sorted({r["agency_name"] for r in rows}))
    years = sorted({r["report_year"] for r in rows})
    page = (f"<!doctype html><html lang='zh'><head><meta charset='utf-8'>"
            f"<title>政府信息公开年度报告对比</title></head><body style='font-family:sans-serif'>"
            f"<h1>政府信息公开工作年度报告 · 对比</h1><p>{html.escape(agencies)}; {years[0]}–{years[-1]}</p>"
            + "".join(parts) + "</body></html>")
    write_atomically(target, lambda tmp: tmp.write_text(page, encoding="utf-8"), output)
    return len(rows)
