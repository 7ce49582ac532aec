"""Tables 二/三/四 and the era-P statistics table as grids of cells.

A grid is a list of rows of `Cell`s with rowspan/colspan, like an HTML table.
Number cells remember the fact they print, so the answer key is read off the
very grid that is rendered (to HTML here, to PDF in pdf.py).
"""
from __future__ import annotations

import html
import random
from dataclasses import dataclass

from warehouse.facts import Fact
from warehouse.eras.table_2021 import OTHER_HANDLING as OTHER_2021_ROWS
from warehouse.metrics import NOT_HANDLED_ROWS, UNAVAILABLE_ROWS, WITHHELD_ROWS

from demo_portal.agencies import Style
from demo_portal.figures import Figures

FULLWIDTH = str.maketrans("0123456789.,-", "０１２３４５６７８９．，－")


@dataclass
class Cell:
    text: str = ""
    rowspan: int = 1
    colspan: int = 1
    fact: Fact | None = None        # set on number cells
    suffix: str = ""                # unit printed in the cell ("251000元")


@dataclass
class NumberFormat:
    """How one report prints its numbers."""
    style: Style
    rng: random.Random

    def __call__(self, value: float | int, suffix: str = "", decimals: int = 0) -> str:
        if value == 0:
            return self.style.zero
        if decimals:
            text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
        else:
            text = f"{int(value):,}" if self.style.commas and abs(value) >= 1000 else str(int(value))
        if self.style.fullwidth_digits:
            text = text.translate(FULLWIDTH)
        return text + suffix


def fact(table: str, a: str, b: str, value: float | int, label: str, unit: str | None = None) -> Fact:
    dims = {"requests": ("row", "applicant"), "reviews": ("proceeding", "result"),
            "proactive": ("item_type", "measure")}[table]
    return Fact(table, dict(zip(dims, (a, b))), value, label_zh=label, unit=unit)


def facts_of(grid: list[list[Cell]]) -> list[Fact]:
    return [c.fact for row in grid for c in row if c.fact is not None]


def brackets(text: str, style: Style) -> str:
    return text.replace("（", "(").replace("）", ")") if style.half_brackets else text


# ---------------------------------------------------------------- table 二

def _num(figs: Figures, item: str, measure: str, label: str, colspan: int = 1, suffix: str = "") -> Cell:
    value, unit = figs.proactive[(item, measure)]
    return Cell(colspan=colspan, suffix=suffix, fact=fact("proactive", item, measure, value, label, unit))


def proactive_grid_2019(figs: Figures, style: Style) -> list[list[Cell]]:
    head = lambda art: [Cell(f"第二十条第（{art}）项", colspan=4)]  # noqa: E731
    cols3 = ("newly_made", "newly_published", "published_total")
    cols_items = ("items_prev_year", "items_change", "decisions")
    grid = [head("一"), [Cell("信息内容"), Cell("本年新制作数量"), Cell("本年新公开数量"), Cell("对外公开总数量")]]
    for item, label in (("rules", "规章"), ("normative_documents", style.normative_2019)):
        grid.append([Cell(label)] + [_num(figs, item, m, label) for m in cols3])
    blocks = (("五", (("administrative_licensing", "行政许可"), ("other_external_services", "其他对外管理服务事项"))),
              ("六", (("administrative_penalty", "行政处罚"), ("administrative_coercion", "行政强制"))))
    for art, items in blocks:
        grid += [head(art), [Cell("信息内容"), Cell("上一年项目数量"), Cell("本年增/减"), Cell("处理决定数量")]]
        for item, label in items:
            grid.append([Cell(label)] + [_num(figs, item, m, label) for m in cols_items])
    grid += [head("八"), [Cell("信息内容"), Cell("上一年项目数量"), Cell("本年增/减", colspan=2)],
             [Cell("行政事业性收费"), _num(figs, "administrative_fees", "items_prev_year", "行政事业性收费"),
              _num(figs, "administrative_fees", "items_change", "行政事业性收费", colspan=2)]]
    unit = figs.proactive[("centralized_procurement", "amount")][1]
    in_cell = unit == "元"
    amount_head = "采购总金额" if in_cell else f"采购总金额（{unit}）"
    grid += [head("九"), [Cell("信息内容"), Cell("采购项目数量"), Cell(amount_head, colspan=2)],
             [Cell("政府集中采购"), _num(figs, "centralized_procurement", "count", "政府集中采购"),
              _num(figs, "centralized_procurement", "amount", "政府集中采购", colspan=2,
                   suffix="元" if in_cell else "")]]
    return grid


def proactive_grid_2021(figs: Figures, style: Style) -> list[list[Cell]]:
    head = lambda art: [Cell(f"第二十条第（{art}）项", colspan=4)]  # noqa: E731
    grid = [head("一"), [Cell("信息内容"), Cell("本年制发件数"), Cell("本年废止件数"), Cell("现行有效件数")]]
    for item, label in (("rules", "规章"), ("normative_documents", style.normative_2021)):
        grid.append([Cell(label)] + [_num(figs, item, m, label) for m in ("issued", "repealed", "in_force")])
    grid += [head("五"), [Cell("信息内容"), Cell("本年处理决定数量", colspan=3)],
             [Cell("行政许可"), _num(figs, "administrative_licensing", "decisions", "行政许可", colspan=3)],
             head("六"), [Cell("信息内容"), Cell("本年处理决定数量", colspan=3)]]
    for item, label in (("administrative_penalty", "行政处罚"), ("administrative_coercion", "行政强制")):
        grid.append([Cell(label), _num(figs, item, "decisions", label, colspan=3)])
    grid += [head("八"), [Cell("信息内容"), Cell("本年收费金额（单位：万元）", colspan=3)],
             [Cell("行政事业性收费"), _num(figs, "administrative_fees", "amount", "行政事业性收费", colspan=3)]]
    return grid


# ---------------------------------------------------------------- table 三

APPLICANT_ORDER = ("natural_person", "commercial_enterprise", "research_institution",
                   "public_welfare_org", "legal_service_org", "other_org", "total")
PARTIAL_NOTE = "（区分处理的，只计这一情形，不计其他情形）"
WITHHELD_LABELS = ("1.属于国家秘密", "2.其他法律行政法规禁止公开", "3.危及“三安全一稳定”", "4.保护第三方合法权益",
                   "5.属于三类内部事务信息", "6.属于四类过程性信息", "7.属于行政执法案卷", "8.属于行政查询事项")
UNAVAILABLE_LABELS = ("1.本机关不掌握相关政府信息", "2.没有现成信息需要另行制作", "3.补正后申请内容仍不明确")
NOT_HANDLED_LABELS = ("1.信访举报投诉类申请", "2.重复申请", "3.要求提供公开出版物", "4.无正当理由大量反复申请",
                      "5.要求行政机关确认或重新出具已获取信息")
OTHER_2021_LABELS = ("1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
                     "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "3.其他")


def _request_cells(figs: Figures, row: str, label: str) -> list[Cell]:
    return [Cell(fact=fact("requests", row, col, figs.requests[(row, col)], label)) for col in APPLICANT_ORDER]


def _grouped(group: str, keys, labels, figs: Figures, b) -> list[list[Cell]]:
    rows = []
    for i, (key, label) in enumerate(zip(keys, labels)):
        lead = [Cell(b(group), rowspan=len(keys))] if i == 0 else []
        rows.append(lead + [Cell(label)] + _request_cells(figs, key, label))
    return rows


def requests_grid(figs: Figures, style: Style) -> list[list[Cell]]:
    b = lambda s: brackets(s, style)  # noqa: E731
    note = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    grid = [[Cell(note, rowspan=3, colspan=3), Cell("申请人情况", colspan=7)],
            [Cell("自然人", rowspan=2), Cell("法人或其他组织", colspan=5), Cell("总计", rowspan=2)],
            [Cell("商业企业"), Cell("科研机构"), Cell("社会公益组织"), Cell("法律服务机构"), Cell("其他")]]
    for row, label in (("received_new", "一、本年新收政府信息公开申请数量"), ("carried_over", "二、上年结转政府信息公开申请数量")):
        grid.append([Cell(label, colspan=3)] + _request_cells(figs, row, label))
    body = [[Cell(b("（一）予以公开"), colspan=2)] + _request_cells(figs, "granted", "予以公开")]
    partial = b("（二）部分公开" + (PARTIAL_NOTE if style.partial_note else ""))
    body.append([Cell(partial, colspan=2)] + _request_cells(figs, "partially_granted", "部分公开"))
    body += _grouped("（三）不予公开", WITHHELD_ROWS, WITHHELD_LABELS, figs, b)
    body += _grouped("（四）无法提供", UNAVAILABLE_ROWS, UNAVAILABLE_LABELS, figs, b)
    body += _grouped("（五）不予处理", NOT_HANDLED_ROWS, NOT_HANDLED_LABELS, figs, b)
    if figs.era == "table_2021":
        body += _grouped("（六）其他处理", OTHER_2021_ROWS, OTHER_2021_LABELS, figs, b)
    else:
        body.append([Cell(b("（六）其他处理"), colspan=2)] + _request_cells(figs, "other_handling", "其他处理"))
    body.append([Cell(b("（七）总计"), colspan=2)] + _request_cells(figs, "handled_total", "总计"))
    body[0].insert(0, Cell("三、本年度办理结果", rowspan=len(body)))
    grid += body
    label = "四、结转下年度继续办理"
    grid.append([Cell(label, colspan=3)] + _request_cells(figs, "carried_forward", label))
    return grid


# ---------------------------------------------------------------- table 四

RESULT_LABELS = (("upheld", "结果维持"), ("corrected", "结果纠正"), ("other", "其他结果"),
                 ("pending", "尚未审结"), ("total", "总计"))
PROCEEDING_LABELS = (("reconsideration", "行政复议"), ("litigation_direct", "未经复议直接起诉"),
                     ("litigation_after_reconsideration", "复议后起诉"))


def _review_row(figs: Figures) -> list[Cell]:
    return [Cell(fact=fact("reviews", proc, res, figs.reviews[(proc, res)], f"{plabel}·{rlabel}"))
            for proc, plabel in PROCEEDING_LABELS for res, rlabel in RESULT_LABELS]


def reviews_grid(figs: Figures, style: Style) -> list[list[Cell]]:
    if style.table4_layout == "two_header":
        return [[Cell("行政复议", colspan=5), Cell("行政诉讼（未经复议直接起诉）", colspan=5),
                 Cell("行政诉讼（复议后起诉）", colspan=5)],
                [Cell(label) for _ in range(3) for _, label in RESULT_LABELS],
                _review_row(figs)]
    return [[Cell("行政复议", colspan=5), Cell("行政诉讼", colspan=10)],
            [Cell(label, rowspan=2) for _, label in RESULT_LABELS]
            + [Cell("未经复议直接起诉", colspan=5), Cell("复议后起诉", colspan=5)],
            [Cell(label) for _ in range(2) for _, label in RESULT_LABELS],
            _review_row(figs)]


# ---------------------------------------------------------------- era P statistics table

def stats_grid(figs: Figures) -> list[list[Cell]]:
    """政府信息公开情况统计表 (统计指标 | 单位 | 统计数) of an era-P report."""
    p = figs.prose

    def row(label: str, unit: str, value: int, table: str | None = None, a: str = "", b: str = "") -> list[Cell]:
        f = fact(table, a, b, value, label.strip("　 ")) if table else None
        return [Cell(label), Cell(unit), Cell(str(value), fact=f)]

    grid = [[Cell("统计指标"), Cell("单位"), Cell("统计数")],
            [Cell("一、主动公开情况", colspan=3)],
            row("（一）主动公开政府信息数", "条", p["all_items"], "proactive", "all_items", "count"),
            row("　　其中：主动公开规范性文件数", "条", p["normative_documents"], "proactive", "normative_documents", "count"),
            [Cell("二、依申请公开情况", colspan=3)],
            row("（一）收到申请数", "件", p["received_new"], "requests", "received_new", "total")]
    for i, channel in enumerate(("当面申请", "网络申请", "信函申请"), 1):
        grid.append(row(f"　　{i}.{channel}数", "件", p[channel]))
    grid.append(row("（二）申请办结数", "件", p["handled_total"], "requests", "handled_total", "total"))
    for i, (key, label) in enumerate((("granted", "同意公开答复数"), ("partially_granted", "同意部分公开答复数"),
                                      ("withheld", "不同意公开答复数"),
                                      ("unavailable_not_held_other_body", "不属于本行政机关公开数"),
                                      ("unavailable_nonexistent", "申请信息不存在数")), 1):
        grid.append(row(f"　　{i}.{label}", "件", p[key], "requests", key, "total"))
    grid.append([Cell("三、因政府信息公开申请行政复议、提起行政诉讼的情况", colspan=3)])
    for n, (proc, label) in enumerate((("reconsideration", "行政复议"), ("litigation", "行政诉讼")), 1):
        grid.append(row(f"（{'一二'[n - 1]}）{label}数量", "件", p[proc], "reviews", proc, "total"))
        for i, (res, rlabel) in enumerate((("upheld", "维持具体行政行为数"), ("corrected", "被依法纠错数"),
                                           ("other", "其他情形数")), 1):
            grid.append(row(f"　　{i}.{rlabel}", "件", p[f"{proc}_{res}"], "reviews", proc, res))
    grid.append(row("四、举报投诉数量", "件", 0))
    grid.append(row("五、依申请公开信息收取的费用", "万元", 0))
    return grid


# ---------------------------------------------------------------- HTML

def cell_text(cell: Cell, fmt: NumberFormat) -> str:
    if cell.fact is None:
        return cell.text
    if cell.text:                 # statistics table cells print their own text
        return cell.text
    decimals = 4 if cell.fact.unit == "万元" else (2 if cell.fact.unit == "元" else 0)
    return fmt(cell.fact.value, cell.suffix if cell.fact.value else "", decimals)


def _span_attrs(cell: Cell) -> str:
    attrs = ""
    if cell.rowspan > 1:
        attrs += f' rowspan="{cell.rowspan}"'
    if cell.colspan > 1:
        attrs += f' colspan="{cell.colspan}"'
    return attrs


def _word_cell_content(text: str, rng: random.Random) -> str:
    """A Word-pasted cell: label split over <span>s, <p class=MsoNormal>, <o:p></o:p>."""
    if not text or text == "&nbsp;":
        return "<p class=MsoNormal align=center><span lang=EN-US><o:p>&nbsp;</o:p></span></p>"
    esc = html.escape(text, quote=False)
    if len(text) > 4 and not text[0].isdigit():
        cut = rng.randint(2, len(text) - 2)
        a, b = html.escape(text[:cut], quote=False), html.escape(text[cut:], quote=False)
        spans = (f"<span style='font-size:10.5pt;font-family:仿宋_GB2312'>{a}</span>"
                 f"<span style='font-size:10.5pt;font-family:仿宋_GB2312'>{b}</span>")
    else:
        spans = f"<span lang=EN-US style='font-size:10.5pt;font-family:\"Times New Roman\"'>{esc}</span>"
    return f"<p class=MsoNormal align=center style='text-align:center'>{spans}<o:p></o:p></p>"


def grid_html(grid: list[list[Cell]], fmt: NumberFormat, word: bool, rng: random.Random) -> str:
    if word:
        out = ["<table class=MsoNormalTable border=1 cellspacing=0 cellpadding=0 "
               "style='border-collapse:collapse;border:none;mso-border-alt:solid windowtext .5pt'>"]
    else:
        out = ['<table border="1" cellspacing="0" cellpadding="4" style="border-collapse:collapse;width:100%">']
    for r, row in enumerate(grid):
        out.append(f"<tr style='height:{20 + (r % 3)}.0pt'>" if word else "<tr>")
        for cell in row:
            text = cell_text(cell, fmt)
            if word:
                content = _word_cell_content(text, rng)
                out.append(f"<td{_span_attrs(cell)} valign=center style='border:solid windowtext 1.0pt;"
                           f"padding:0cm 5.4pt 0cm 5.4pt'>{content}</td>")
            else:
                content = text if text in ("&nbsp;", "") else html.escape(text, quote=False)
                out.append(f'<td{_span_attrs(cell)} align="center">{content}</td>')
        out.append("</tr>")
    out.append("</table>")
    return "\n".join(out)


def layout(grid: list[list[Cell]]) -> list[tuple[int, int, Cell]]:
    """Place cells on the grid the way a browser does (rowspans push later cells right)."""
    taken: set[tuple[int, int]] = set()
    placed = []
    for r, row in enumerate(grid):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            placed.append((r, c, cell))
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken.add((r + dr, c + dc))
            c += cell.colspan
    return placed
