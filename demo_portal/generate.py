"""Generate the demo portal: a static TRS-style site of annual disclosure reports plus its answer key.

    generate_portal(out_dir, seed=2024) writes
      out_dir/site/...          the files to serve (HTML in UTF-8 or GB18030, PDFs, robots.txt, _faults.json)
      out_dir/site_round2/...   what the server serves instead from its round 2 on (a report edited in place)
      out_dir/answer_key.json   every report with the facts it states and the checks it fails; issue 15's
                                timeliness, changes and reconciliation lists (demo_portal.cases)
      out_dir/agencies.yaml     the agency registry
      out_dir/sources.yaml      the crawl source

URLs in answer_key.json and sources.yaml start with the placeholder ``{BASE}``;
substitute the running server's base URL (``PortalServer.base_url``, e.g.
``http://127.0.0.1:8765``) at run time, e.g. with `resolve_base()`.
Everything is drawn from `random.Random(seed)`: no clock, same bytes every run.
"""
from __future__ import annotations

import copy
import json
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from warehouse.checks import evaluate_checks
from warehouse.facts import Fact, dedupe_facts
from warehouse.metrics import APPLICANT_KEYS

from demo_portal import cases, pages, prose, tables
from demo_portal.agencies import AGENCIES, BY_ID, Agency, registry_entry
from demo_portal.figures import AgencyState, Figures, prose_figures, table_figures
from demo_portal.pdf import render_pdf

BASE = "{BASE}"
CROSS_YEAR_CHECK = "requests_carry_over_across_years"

# The portal's planted scenarios, (agency_id, report_year).
LATE_ADOPTER = ("flx-bsz", 2019)        # a 2019 report still in prose
EARLY_ADOPTER = ("lz-gxq", 2020)        # a 2020 report already in the 2021 layout
HANDLED_OFF_BY_ONE = ("lzs-czj", 2020)  # handled_total (total column) printed one too high
REVIEW_TOTAL_WRONG = ("sxq", 2022)      # table 四: reconsideration total one too high
CARRY_OVER_BREAK = ("qcs-jyt", 2023)    # carried_over != last year's carried_forward
CORRECTED = ("qcs-fgw", 2021)           # republished as 更正版 with a corrected figure
DUPLICATE = ("sxq-czj", 2019, "sxq")    # same bytes also posted in the column of "sxq"
BROKEN_404 = ("flx-jyj", 2017)          # listed, but the link answers 404
FLAKY_500 = ("lzs", 2021)               # answers 500 on the first request, 200 after
PDF_ONLY = (("flx", 2022), ("lzs-zjj", 2023))
STATS_TABLE_YEARS = range(2016, 2019)   # prose years in which stats_table agencies attach the table
# Issue 15: timeliness, versions, reconciliation (answer key: timeliness, changes, reconciliation).
PUBLISHED_ON = {                        # dates that differ from the usual early-in-the-year publication
    ("lzs-gaj", 2020): "2021-03-16",    # late: departments are due by 31 January since the 2019 regulation
    ("flx", 2016): "2017-05-09",        # late: every body due by 31 March under the 2008 regulation
    ("sxq-ljjd", 2021): "2022-06-20",   # late: a township, due by 31 March
    ("lzs-czj", 2021): "2022-01-31",    # on time: published on the deadline itself
}
URL_DATE_ONLY = ("lz-gxq", 2022)        # the page states no date; its TRS URL /202303/t20230319_N.html does
NO_DATE = ("sxq-czj", 2023)             # no date on the page, in the URL or in the listing: date_unknown
EDITED_IN_ROUND_2 = ("lzs-zjj", 2022)   # the server's round 2 serves a silently edited body at the same URL
SUMMARY_PARENT = "sxq"                  # its table-era figures are the sums of its children's (match)
MISMATCH_PARENT = "flx"                 # its figures are its own (mismatch; 2020 incomplete: flx-rsj missing)
# Issue 14: formats without a text layer, and spreadsheets (demo_portal.scan). Answer key: "format".
OTHER_FORMATS = {
    ("qcs-bgt", 2022): "scanned_pdf",   # an image-only PDF attachment: pages scanned (rotation, blur, JPEG)
    ("lzs-gaj", 2023): "image_html",    # a 图片版 page: its text in HTML, its three tables as PNG/JPEG <img>s
    ("lzs-yjj", 2021): "xlsx",          # the tables as an .xlsx attachment of a page carrying the text
    # Word 97 / WPS / Excel 97 attachments: committed files (demo_portal/assets/, demo_portal.office) made once
    # with LibreOffice from these reports' own blocks by demo_portal/make_office_assets.py
    ("qcs-zrzyt", 2022): "doc",         # the whole report as a Word 97 .doc attachment of a landing page
    ("lz-gxq", 2021): "wps",            # the same as a WPS Writer .wps (a Word 97 file under WPS's name)
    ("lzs-czj", 2023): "xls",           # the tables as an Excel 97 .xls attachment of a page carrying the text
}

EXPECTED_FAILURES = {
    HANDLED_OFF_BY_ONE: {"requests_balance_total", "requests_outcomes_total", "requests_applicant_columns"},
    REVIEW_TOTAL_WRONG: {"reviews_reconsideration_total"},
    CARRY_OVER_BREAK: {CROSS_YEAR_CHECK},
}

TITLE_PATTERNS = ("{name}{year}年政府信息公开工作年度报告",) * 5 + (
    "{name}{year}年度政府信息公开工作年度报告", "{name}{year}年政府信息公开工作年报",
    "{name}{year}年度政府信息公开工作报告")
NEWS_TITLES = (
    "{short}召开{year}年政务公开工作推进会", "关于印发{name}{year}年政务公开工作要点的通知",
    "{short}开展{year}年“政务公开日”活动", "{name}政府信息公开指南（{year}年修订）",
    "{short}组织开展政府信息公开业务培训", "关于调整{name}政务公开工作领导小组成员的通知",
)


@dataclass
class Report:
    agency: Agency
    year: int
    era: str
    name: str
    title: str
    date: str
    article_id: int
    figures: Figures
    facts: list[Fact] = field(default_factory=list)
    failing_checks: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)          # where the report itself is served
    superseded_paths: list[str] = field(default_factory=list)
    landing_paths: list[str] = field(default_factory=list)  # HTML pages linking a PDF attachment
    image_paths: list[str] = field(default_factory=list)    # the table images of a 图片版 page
    fmt: str = "html"
    first_published: str | None = None      # a corrected report: the date of the version first published
    superseded_facts: list[Fact] = field(default_factory=list)
    revised_facts: list[Fact] = field(default_factory=list)  # the body served in round 2 (EDITED_IN_ROUND_2)

    @property
    def key(self) -> tuple[str, int]:
        return (self.agency.agency_id, self.year)


def era_for(agency_id: str, year: int) -> str:
    if (agency_id, year) == LATE_ADOPTER:
        return "prose"
    if (agency_id, year) == EARLY_ADOPTER:
        return "table_2021"
    return "prose" if year <= 2018 else ("table_2019" if year <= 2020 else "table_2021")


def url(path: str) -> str:
    return f"{BASE}/{path}"


def resolve_base(text: str, base_url: str) -> str:
    """Substitute the {BASE} placeholder of answer_key.json / sources.yaml (comment lines are kept)."""
    return "".join(line if line.lstrip().startswith("#") else line.replace(BASE, base_url.rstrip("/"))
                   for line in text.splitlines(keepends=True))


class PortalBuilder:
    def __init__(self, seed: int, agencies: tuple[Agency, ...] = AGENCIES):
        self.rng = random.Random(seed)
        self.agencies = agencies
        self.files: dict[str, bytes] = {}
        self.columns: dict[str, list[tuple[pages.ListItem, int]]] = {a.agency_id: [] for a in agencies}
        self.reports: list[Report] = []
        self.non_report_paths: list[str] = []
        self.faults: dict[str, list[str]] = {"not_found": [], "fail_once": []}
        self.round2_files: dict[str, bytes] = {}   # served instead of files[path] from round 2 on
        self.next_id = 100000 + self.rng.randint(0, 50000)
        self.check_assets = True    # False: make_office_assets.py collects office_sources, no asset is read
        self.office_sources: dict[tuple[str, int], tuple[Report, list, tables.NumberFormat]] = {}

    # ------------------------------------------------------------ ids, dates, encoding
    def new_id(self) -> int:
        self.next_id += self.rng.randint(1, 97)
        return self.next_id

    def report_date(self, agency: Agency, year: int) -> str:
        last_month = 1 if agency.level == "department" and year >= 2019 else 3
        return f"{year + 1}-{self.rng.randint(1, last_month):02d}-{self.rng.randint(5, 28):02d}"

    def write_page(self, path: str, text: str, charset: str) -> None:
        self.files[path] = text.encode("gb18030") if charset != "utf-8" else text.encode("utf-8")

    @staticmethod
    def charset_of(agency: Agency, text: str) -> str:
        """Declared charset; a page that does not fit GB2312 is declared GBK."""
        declared = agency.style.charset
        if declared == "gb2312":
            try:
                text.replace("gb2312", "").encode("gb2312")
            except UnicodeEncodeError:
                return "gbk"
        return declared

    def render(self, agency: Agency, make_page) -> tuple[str, str]:
        """make_page(charset) -> html; returns (html, charset) with the declaration matching the bytes."""
        charset = agency.style.charset
        text = make_page(charset)
        fixed = self.charset_of(agency, text)
        return (make_page(fixed), fixed) if fixed != charset else (text, charset)

    @staticmethod
    def article_path(slug: str, date: str, article_id: int, ext: str = "html") -> str:
        ym, ymd = date[:7].replace("-", ""), date.replace("-", "")
        return f"{slug}/zfxxgknb/{ym}/t{ymd}_{article_id}.{ext}"

    def list_in(self, column: str, title: str, path: str, date: str, article_id: int, shown: bool = True) -> None:
        href = "./" + path.split("/zfxxgknb/", 1)[1]
        if not path.startswith(column + "/"):
            href = "/" + path
        self.columns[column].append((pages.ListItem(title, href, date, shown), article_id))

    # ------------------------------------------------------------ figures
    def plan(self) -> None:
        for agency in self.agencies:
            state = AgencyState()
            previous: Report | None = None
            for year in agency.report_years():
                report = self.plan_report(agency, year, state, previous)
                previous = report
                if report.key != BROKEN_404:
                    self.reports.append(report)
        self.sum_children_into(SUMMARY_PARENT)

    def sum_children_into(self, parent_id: str) -> None:
        """The parent's table-era figures become the sums of its children's (本级及所属单位汇总)."""
        children = [a.agency_id for a in self.agencies if a.parent_agency_id == parent_id]
        by_key = {r.key: r for r in self.reports}
        for report in self.reports:
            if report.agency.agency_id != parent_id or report.era == "prose":
                continue
            kids = [by_key[(c, report.year)] for c in children if (c, report.year) in by_key]
            if not kids or any(k.era != report.era for k in kids):
                continue
            figs = report.figures
            for key in figs.requests:
                figs.requests[key] = sum(k.figures.requests[key] for k in kids)
            for key in figs.reviews:
                figs.reviews[key] = sum(k.figures.reviews[key] for k in kids)
            for key, (_, unit) in figs.proactive.items():
                total = sum(k.figures.proactive[key][0] for k in kids)
                figs.proactive[key] = (round(total, 4) if isinstance(total, float) else total, unit)
            self.tamper(report)

    def plan_report(self, agency: Agency, year: int, state: AgencyState, previous: Report | None) -> Report:
        era = era_for(agency.agency_id, year)
        if era == "prose":
            figs = prose_figures(self.rng, agency, year, state)
        else:
            carried = None
            if previous is not None and previous.year == year - 1 and previous.era != "prose":
                carried = {c: previous.figures.requests[("carried_forward", c)] for c in APPLICANT_KEYS[:-1]}
            if (agency.agency_id, year) == CARRY_OVER_BREAK:
                carried = dict(carried, natural_person=carried["natural_person"] + 2)
            figs = table_figures(self.rng, agency, year, era, state, carried)
        name = agency.name_in(year)
        title = self.rng.choice(TITLE_PATTERNS).format(name=name, year=year)
        report = Report(agency, year, era, name, title, self.report_date(agency, year), self.new_id(), figs)
        report.date = PUBLISHED_ON.get(report.key, report.date)
        self.tamper(report)
        return report

    @staticmethod
    def tamper(report: Report) -> None:
        if report.key == HANDLED_OFF_BY_ONE:
            report.figures.requests[("handled_total", "total")] += 1
        if report.key == REVIEW_TOTAL_WRONG:
            report.figures.reviews[("reconsideration", "total")] += 1

    # ------------------------------------------------------------ report bodies
    def table_blocks(self, report: Report) -> tuple[list[tuple[str, object]], list[Fact]]:
        """Blocks ("heading"|"para"|"table", content) of a table-era report, and its facts."""
        agency, style = report.agency, report.agency.style
        grid2 = (tables.proactive_grid_2021 if report.era == "table_2021" else tables.proactive_grid_2019)(
            report.figures, style)
        grid3 = tables.requests_grid(report.figures, style)
        grid4 = tables.reviews_grid(report.figures, style)
        blocks: list[tuple[str, object]] = [("para", p) for p in prose.table_era_intro(agency, report.name, report.year, self.rng)]
        if agency.agency_id == SUMMARY_PARENT:
            blocks.append(("para", f"本报告统计数据为{report.name}本级及所属部门、街道（乡镇）汇总数据。"))
        heading, paras = prose.overall_section(agency, report.name, report.year, self.rng)
        blocks += [("heading", heading)] + [("para", p) for p in paras]
        blocks += [("heading", "二、主动公开政府信息情况"), ("table", (grid2, [38])),
                   ("heading", "三、收到和处理政府信息公开申请情况"), ("table", (grid3, [12, 18, 40])),
                   ("heading", "四、政府信息公开行政复议、行政诉讼情况"), ("table", (grid4, []))]
        for heading, paras in prose.closing_sections(agency, report.year, report.era, self.rng):
            blocks += [("heading", heading)] + [("para", p) for p in paras]
        return blocks, tables.facts_of(grid2) + tables.facts_of(grid3) + tables.facts_of(grid4)

    def prose_blocks(self, report: Report) -> tuple[list[tuple[str, object]], list[Fact]]:
        sections, facts = prose.prose_report(report.agency, report.name, report.year, report.figures, self.rng)
        blocks: list[tuple[str, object]] = []
        for heading, paras in sections:
            blocks += [("heading", heading)] + [("para", p) for p in paras]
        if report.agency.style.stats_table and report.year in STATS_TABLE_YEARS:
            grid = tables.stats_grid(report.figures)
            blocks += [("heading", f"附件：{report.year}年政府信息公开情况统计表"), ("table", (grid, [70, 20]))]
            facts = dedupe_facts(tables.facts_of(grid) + facts)
        return blocks, facts

    def blocks_html(self, blocks: list[tuple[str, object]], fmt: tables.NumberFormat, word: bool) -> str:
        out = []
        for kind, content in blocks:
            if kind == "heading":
                out.append(pages.heading_html(content, word))
            elif kind == "para":
                out.append(pages.para_html(content, word))
            else:
                out.append(tables.grid_html(content[0], fmt, word, self.rng))
        return "\n".join(out)

    # ------------------------------------------------------------ publishing
    def index_no(self, agency: Agency, report: Report) -> str:
        return f"{agency.region_code}-{agency.agency_id.upper()}/{report.year + 1}-{report.article_id % 100000:05d}"

    def publish(self, report: Report) -> None:
        agency = report.agency
        saved = self.rng.getstate()
        blocks, report.facts = (self.prose_blocks(report) if report.era == "prose" else self.table_blocks(report))
        fmt = tables.NumberFormat(agency.style, self.rng)
        word = agency.style.word_markup and report.era != "prose"
        path = self.article_path(agency.agency_id, report.date, report.article_id)
        if report.key == NO_DATE:   # a CMS whose article URLs carry no date
            path = f"{agency.agency_id}/zfxxgknb/content_{report.article_id}.html"
        if report.key in PDF_ONLY:
            self.publish_pdf(report, blocks, fmt, path)
        elif report.key in OTHER_FORMATS:
            self.publish_other_format(report, blocks, fmt, path)
        else:
            body = self.blocks_html(blocks, fmt, word)
            self.publish_html(report, path, body)
        self.list_in(agency.agency_id, report.title, path, report.date, report.article_id,
                     shown=report.key != NO_DATE)
        if report.key == EDITED_IN_ROUND_2:
            self.publish_silent_edit(report, path, saved)
        if report.key == CORRECTED:
            self.publish_correction(report, blocks, fmt, word, path)
        if report.key[:2] == DUPLICATE[:2]:
            copy_path = path.replace(agency.agency_id + "/", DUPLICATE[2] + "/", 1)
            self.files[copy_path] = self.files[path]
            report.paths.append(copy_path)
            self.list_in(DUPLICATE[2], report.title, copy_path, report.date, report.article_id)
        if report.key == FLAKY_500:
            self.faults["fail_once"].append("/" + path)

    def publish_html(self, report: Report, path: str, body: str, title: str | None = None,
                     round2: bool = False) -> None:
        agency = report.agency
        date = None if report.key in (URL_DATE_ONLY, NO_DATE) else report.date
        text, charset = self.render(agency, lambda cs: pages.article_page(
            slug=agency.agency_id, title=title or report.title, publisher=report.name, date=date,
            index_no=self.index_no(agency, report), body=body, charset=cs))
        if round2:
            self.round2_files[path] = text.encode("gb18030") if charset != "utf-8" else text.encode("utf-8")
            return
        self.write_page(path, text, charset)
        report.paths.append(path)

    def publish_silent_edit(self, report: Report, path: str, saved_rng_state) -> None:
        """The same page re-rendered (same words: the random stream replayed) with a few figures edited,
        served at the same URL from round 2 on: 3 natural-person requests granted in part instead of in
        full, 15 more penalty decisions. The report's identities still hold."""
        main_rng, self.rng = self.rng, random.Random()
        self.rng.setstate(saved_rng_state)
        try:
            edited = copy.deepcopy(report)
            req = edited.figures.requests
            moved = min(3, req[("granted", "natural_person")])
            for col in ("natural_person", "total"):
                req[("granted", col)] -= moved
                req[("partially_granted", col)] += moved
            value, unit = edited.figures.proactive[("administrative_penalty", "decisions")]
            edited.figures.proactive[("administrative_penalty", "decisions")] = (value + 15, unit)
            blocks, report.revised_facts = self.table_blocks(edited)
            fmt = tables.NumberFormat(report.agency.style, self.rng)
            word = report.agency.style.word_markup
            self.publish_html(report, path, self.blocks_html(blocks, fmt, word), round2=True)
        finally:
            self.rng = main_rng

    def publish_pdf(self, report: Report, blocks, fmt: tables.NumberFormat, landing: str) -> None:
        pdf_path = landing.rsplit("/", 1)[0] + f"/P0{report.date.replace('-', '')}{report.article_id}.pdf"
        self.files[pdf_path] = render_pdf(report.title, blocks, fmt)
        body = pages.attachment_body(report.title, pdf_path.rsplit("/", 1)[1])
        self.publish_html(report, landing, body)
        report.paths.remove(landing)
        report.landing_paths.append(landing)
        report.paths.append(pdf_path)
        report.fmt = "pdf"

    def publish_other_format(self, report: Report, blocks, fmt: tables.NumberFormat, page: str) -> None:
        """Issue 14's formats; their noise comes from a random stream of their own (the portal's stays)."""
        from demo_portal import scan

        kind = OTHER_FORMATS[report.key]
        rng = random.Random(f"{report.agency.agency_id}-{report.year}-{kind}")
        folder, stamp = page.rsplit("/", 1)[0], f"{report.date.replace('-', '')}{report.article_id}"
        if kind in ("doc", "wps", "xls"):
            self.publish_office(report, blocks, fmt, page, f"{folder}/P0{stamp}.{kind}")
        elif kind == "image_html":
            parts = []
            for block, content in blocks:
                if block != "table":
                    parts.append(self.blocks_html([(block, content)], fmt, False))
                    continue
                ext = "jpg" if len(report.image_paths) % 2 else "png"   # png, jpg, png
                name = f"W0{stamp}{len(report.image_paths) + 1}.{ext}"
                self.files[f"{folder}/{name}"] = scan.table_image(content[0], fmt, content[1], rng, ext.replace("jpg", "jpeg"))
                report.image_paths.append(f"{folder}/{name}")
                parts.append(f'<p style="text-align:center"><a href="./{name}" target="_blank">'
                             f'<img src="./{name}" border="0" alt="" /></a></p>')
            self.publish_html(report, page, "\n".join(parts))
        else:
            ext = "pdf" if kind == "scanned_pdf" else "xlsx"
            attachment = f"{folder}/P0{stamp}.{ext}"
            if kind == "scanned_pdf":
                self.files[attachment] = scan.scanned_pdf(report.title, blocks, fmt, rng)
                body = pages.attachment_body(report.title, attachment.rsplit("/", 1)[1])
            else:
                self.files[attachment] = scan.tables_xlsx(report.title, blocks, fmt)
                text = [(b, c) for b, c in blocks if b != "table"]
                body = (self.blocks_html(text, fmt, False) + "\n"
                        + f'<p>附件：<a href="./{attachment.rsplit("/", 1)[1]}">{pages.esc(report.title)}'
                          "统计表.xlsx</a></p>")
            self.publish_html(report, page, body)
            report.paths.remove(page)
            report.landing_paths.append(page)
            report.paths.append(attachment)
        report.fmt = kind

    def publish_office(self, report: Report, blocks, fmt: tables.NumberFormat, page: str, attachment: str) -> None:
        """A .doc/.wps attachment carrying the whole report (the page only links it), or an .xls carrying its
        tables (the page carries the text): the committed asset, checked to hold these very figures."""
        from demo_portal import office

        kind, name = attachment.rsplit(".", 1)[1], attachment.rsplit("/", 1)[1]
        self.office_sources[report.key] = (report, blocks, fmt)
        if self.check_assets:
            self.files[attachment] = office.load_asset(report.agency.agency_id, report.year, kind, report.title,
                                                       report.era, report.facts)
        if kind == "xls":
            text = [(b, c) for b, c in blocks if b != "table"]
            body = (self.blocks_html(text, fmt, False) + "\n"
                    + f'<p>附件：<a href="./{name}">{pages.esc(report.title)}统计表.xls</a></p>')
        else:
            body = pages.attachment_body(report.title, name)
        self.publish_html(report, page, body)
        report.paths.remove(page)
        report.landing_paths.append(page)
        report.paths.append(attachment)

    def publish_correction(self, report: Report, blocks, fmt, word: bool, original_path: str) -> None:
        """The page first published carries a wrong figure; the 更正版 published later is the report."""
        wrong = copy.deepcopy(report)
        value, unit = wrong.figures.proactive[("administrative_licensing", "decisions")]
        wrong.figures.proactive[("administrative_licensing", "decisions")] = (value + 90, unit)
        wrong_blocks, report.superseded_facts = self.table_blocks(wrong)
        report.paths.clear()
        self.publish_html(report, original_path, self.blocks_html(wrong_blocks, fmt, word))
        report.superseded_paths = list(report.paths)
        report.paths.clear()
        report.first_published = report.date
        y = report.year + 1
        report.date = f"{y}-04-{self.rng.randint(10, 28):02d}"
        report.article_id = self.new_id()
        report.title = report.title + "（更正版）"
        path = self.article_path(report.agency.agency_id, report.date, report.article_id)
        note = pages.para_html("说明：本报告对原发布版本中第二十条第（五）项行政许可处理决定数量进行了更正，以本版本为准。", word)
        self.publish_html(report, path, note + "\n" + self.blocks_html(blocks, fmt, word))
        self.list_in(report.agency.agency_id, report.title, path, report.date, report.article_id)

    def publish_broken_link(self) -> None:
        agency = BY_ID[BROKEN_404[0]]
        year = BROKEN_404[1]
        date, article_id = self.report_date(agency, year), self.new_id()
        path = self.article_path(agency.agency_id, date, article_id)
        self.list_in(agency.agency_id, f"{agency.name_in(year)}{year}年政府信息公开工作年度报告", path, date, article_id)
        self.faults["not_found"].append("/" + path)

    # ------------------------------------------------------------ non-report articles
    def publish_news(self, agency: Agency, title: str, date: str, paras: list[str]) -> None:
        article_id = self.new_id()
        path = self.article_path(agency.agency_id, date, article_id)
        body = "\n".join(pages.para_html(p, False) for p in paras)
        text, charset = self.render(agency, lambda cs: pages.article_page(
            slug=agency.agency_id, title=title, publisher=agency.name_in(min(int(date[:4]), 2024)),
            date=date, index_no=f"{agency.region_code}-{article_id}", body=body, charset=cs, topic="工作动态"))
        self.write_page(path, text, charset)
        self.list_in(agency.agency_id, title, path, date, article_id)
        self.non_report_paths.append(path)

    def news_for(self, agency: Agency) -> None:
        for _ in range(self.rng.randint(3, 7)):
            year = self.rng.randint(agency.first_year, agency.last_year)
            name = agency.name_in(year)
            title = self.rng.choice(NEWS_TITLES).format(name=name, short=name, year=year)
            date = f"{year}-{self.rng.randint(4, 12):02d}-{self.rng.randint(1, 28):02d}"
            self.publish_news(agency, title, date, [
                f"近日，{name}召开会议，传达学习上级关于政务公开工作的部署要求，{self.rng.randint(20, 80)}余人参加会议。",
                "会议要求，要进一步提高认识，压实责任，确保各项政务公开任务落到实处。"])

    def special_non_reports(self) -> None:
        lzs, qcs = BY_ID["lzs"], BY_ID["qcs"]
        self.publish_news(lzs, "关于报送2020年政府信息公开工作年度报告的通知", "2021-01-06", [
            "各县（区）人民政府，市政府各部门：",
            "根据《中华人民共和国政府信息公开条例》规定，请各单位于2021年1月31日前将本单位2020年政府信息公开工作年度报告"
            "报送市政府办公室，并在本单位门户网站政府信息公开专栏公开。",
            "联系电话：0587-6123456。"])
        self.publish_news(qcs, "图解：青川省人民政府2021年政府信息公开工作年度报告", "2022-03-30", [
            "本期图解以图表形式展示全省政府信息公开工作情况，具体数据以年度报告正文为准。",
            "全年召开新闻发布会15场，开展政策解读活动32次。"])

    # ------------------------------------------------------------ listings and static pages
    def publish_columns(self) -> list[str]:
        listing_paths = []
        for agency in self.agencies:
            items = sorted(self.columns[agency.agency_id], key=lambda t: (t[0].date, t[1]), reverse=True)
            count = -(-len(items) // pages.PAGE_SIZE)
            for i in range(count):
                chunk = [item for item, _ in items[i * pages.PAGE_SIZE:(i + 1) * pages.PAGE_SIZE]]
                path = f"{agency.agency_id}/zfxxgknb/{pages.page_file(i)}"
                text, charset = self.render(agency, lambda cs: pages.listing_page(
                    agency.current_name, agency.agency_id, chunk, count, i, cs))
                self.write_page(path, text, charset)
                listing_paths.append(path)
            text, charset = self.render(agency, lambda cs: pages.agency_home(agency.current_name, agency.agency_id, cs))
            self.write_page(f"{agency.agency_id}/index.html", text, charset)
        return listing_paths

    def publish_static(self) -> None:
        level_names = {"provincial": "省政府", "department": "部门", "prefecture": "市政府", "county": "县（区）政府",
                       "zone": "开发区", "township": "乡镇（街道）"}
        columns = [(level_names[a.level], a.current_name, f"/{a.agency_id}/zfxxgknb/index.html") for a in self.agencies]
        self.write_page("index.html", pages.home_page(columns), "utf-8")
        self.write_page("admin/login.html", pages.ADMIN_PAGE, "utf-8")
        self.files["robots.txt"] = b"User-agent: *\nDisallow: /admin/\n"
        self.files["images/common.css"] = b"body{font-family:SimSun,serif;font-size:14px}\n"
        self.files["_faults.json"] = json.dumps(self.faults, indent=1).encode()

    # ------------------------------------------------------------ checks
    def evaluate(self) -> None:
        by_key = {r.key: r for r in self.reports}
        for report in self.reports:
            failed = [c.check_name for c in evaluate_checks(report.facts, report.era) if not c.passed]
            prev = by_key.get((report.agency.agency_id, report.year - 1))
            if prev and prev.era != "prose" and report.era != "prose" and not carry_over_matches(prev, report):
                failed.append(CROSS_YEAR_CHECK)
            report.failing_checks = sorted(failed)
        actual = {r.key: set(r.failing_checks) for r in self.reports if r.failing_checks}
        if actual != EXPECTED_FAILURES:
            raise AssertionError(f"unexpected inconsistencies: {actual}")


def carry_over_matches(prev: Report, report: Report) -> bool:
    def cells(r: Report, row: str) -> dict:
        return {f.dims["applicant"]: f.value for f in r.facts if f.table == "requests" and f.dims["row"] == row}
    return cells(report, "carried_over") == cells(prev, "carried_forward")


def report_entry(r: Report) -> dict:
    entry = {
        "agency_id": r.agency.agency_id, "agency_name": r.name, "report_year": r.year, "era": r.era,
        "title": r.title, "published_date": r.date, "format": r.fmt,
        "encoding": r.agency.style.charset if r.fmt == "html" else None,
        "urls": [url(p) for p in r.paths], "superseded_urls": [url(p) for p in r.superseded_paths],
        "landing_urls": [url(p) for p in r.landing_paths],
        **({"image_urls": [url(p) for p in r.image_paths]} if r.image_paths else {}),
        "facts": [f.to_json() for f in r.facts], "failing_checks": r.failing_checks,
    }
    if r.revised_facts:  # what the server's round 2 serves at the same URL (the current version then)
        entry["revised_in_round"] = 2
        entry["revised_facts"] = [f.to_json() for f in r.revised_facts]
    return entry


def date_source(r: Report) -> str | None:
    if r.key == NO_DATE:
        return None
    return "url_path" if r.key == URL_DATE_ONLY else "page_field"  # PDFs: the date of their landing page


def timeliness_key(builder: PortalBuilder) -> list[dict]:
    """Every agency-year the body existed in, with its deadline and status (demo_portal.cases)."""
    by_key = {r.key: r for r in builder.reports}
    out = []
    for agency in builder.agencies:
        for year in agency.expected_years():
            r = by_key.get((agency.agency_id, year))
            published = None if r is None or r.key == NO_DATE else (r.first_published or r.date)
            out.append(cases.timeliness_entry(agency, year, published, r and date_source(r), r is not None))
    return out


def changes_key(builder: PortalBuilder) -> list[dict]:
    """Figures that differ between consecutive versions: the silent edit of round 2 and the 更正版."""
    out = []
    for r in builder.reports:
        versions = []
        if r.superseded_facts:
            versions.append(("correction", r.superseded_facts, r.facts, r.superseded_paths[0], r.paths[0]))
        if r.revised_facts:
            versions.append(("silent_edit", r.facts, r.revised_facts, r.paths[0], r.paths[0]))
        for kind, old, new, old_path, new_path in versions:
            for change in cases.fact_changes([f.to_json() for f in old], [f.to_json() for f in new]):
                out.append({"agency_id": r.agency.agency_id, "report_year": r.year, **change, "kind": kind,
                            "old_url": url(old_path), "new_url": url(new_path)})
    return out


def reconciliation_key(builder: PortalBuilder) -> list[dict]:
    """The planted parents' measures against their children's sums, 2019 on (the current versions)."""
    current = {r.key: (r.era, [f.to_json() for f in (r.revised_facts or r.facts)]) for r in builder.reports}
    expected = {a.agency_id: set(a.expected_years()) for a in builder.agencies}
    out = []
    for parent in (SUMMARY_PARENT, MISMATCH_PARENT):
        children = [a.agency_id for a in builder.agencies if a.parent_agency_id == parent]
        out += cases.reconciliation_entries(parent, range(2019, 2025), current, children, expected)
    return out


def build_portal(builder: PortalBuilder) -> list[str]:
    """Plan and render every page of the builder's agencies; returns the listing paths."""
    builder.plan()
    for report in builder.reports:
        builder.publish(report)
    builder.publish_broken_link()
    for agency in builder.agencies:
        builder.news_for(agency)
    builder.special_non_reports()
    listing_paths = builder.publish_columns()
    builder.publish_static()
    return listing_paths


def generate_portal(out_dir: Path, seed: int = 2024) -> dict:
    """Write the portal under out_dir (see module docstring); return the answer key."""
    out_dir = Path(out_dir)
    builder = PortalBuilder(seed)
    listing_paths = build_portal(builder)
    builder.evaluate()
    key = {
        "base_url": BASE,
        "reports": [report_entry(r) for r in builder.reports],
        "non_report_urls": [url(p) for p in builder.non_report_paths],
        "listing_urls": [url(p) for p in listing_paths],
        "broken_urls": [{"url": url(p.lstrip("/")), "status": 404} for p in builder.faults["not_found"]],
        "flaky_urls": [{"url": url(p.lstrip("/")), "status_first": 500} for p in builder.faults["fail_once"]],
        "disallowed_urls": [url("admin/login.html")],
        "rounds": {"2": [url(p) for p in sorted(builder.round2_files)]},
        "timeliness": timeliness_key(builder),
        "changes": changes_key(builder),
        "reconciliation": reconciliation_key(builder),
    }
    write_outputs(out_dir, builder, key)
    return key


def key_json(key: dict) -> str:
    """Indented JSON with each fact (and each timeliness, change, reconciliation entry) on one line."""
    text = json.dumps(key, ensure_ascii=False, indent=1)
    return re.sub(r'\{\n\s*"(?:table|agency_id|parent_agency_id)"[^{}\[\]]*\}',
                  lambda m: re.sub(r"\n\s*", " ", m.group(0)), text)


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    """`files` (path -> bytes) under `root`, which holds nothing else afterwards."""
    if root.exists():
        shutil.rmtree(root)
    for path, data in sorted(files.items()):
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def write_outputs(out_dir: Path, builder: PortalBuilder, key: dict) -> None:
    write_tree(out_dir / "site", builder.files)
    write_tree(out_dir / "site_round2", builder.round2_files)
    (out_dir / "answer_key.json").write_text(key_json(key), encoding="utf-8")
    years_by_name: dict[str, list[int]] = {}
    for r in builder.reports:
        years_by_name.setdefault(r.name, []).append(r.year)
    registry = {"agencies": [registry_entry(a, years_by_name) for a in builder.agencies]}
    dump = lambda obj: yaml.safe_dump(obj, allow_unicode=True, sort_keys=False)  # noqa: E731
    (out_dir / "agencies.yaml").write_text(dump(registry), encoding="utf-8")
    sources = {"sources": [{"id": "demo-portal", "name": pages.PORTAL_NAME + "（演示）", "family": "trs_static",
                            "entry_urls": [f"{BASE}/"], "allowed_domains": ["127.0.0.1", "localhost"]}]}
    (out_dir / "sources.yaml").write_text(
        "# {BASE} is replaced by the demo server's base URL at run time (demo_portal.generate.resolve_base).\n"
        + dump(sources), encoding="utf-8")
