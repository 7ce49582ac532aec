"""When an annual report is due, and the date a report's URL states: the rules, declared once.

The regulations (政府信息公开条例) set the deadline of the annual report of year Y:

- 2008 regulation (report years up to 2018), art. 31/32: every body by 31 March of Y+1.
- 2019 regulation (report years from 2019), art. 49: the departments of governments at county
  level and above (level `department`) by 31 January of Y+1; the governments' own reports (every
  other level: national, provincial, prefecture, county, township, zone) by 31 March of Y+1.

A body whose level is unknown is held to the later deadline (31 March), so it is never called
late by a rule that may not apply to it. The build renders `deadline_rows()` into the SQL of
mart_report_timeliness (placeholder `{{ deadline_rules }}`): no date is written by hand in SQL.

`date_from_url` reads the publication date some portals put in a page's path (TRS
`/202201/t20220125_123.html`, Hanweb-style `/art/2022/1/25/art_…html`, `/2022-01/25/`,
`/20220125/`); the parse stage uses it only when the page states no date of its own.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import NamedTuple

DEPARTMENT = "department"
# Where a report's publication date came from (dim_report.published_date_source): the page's
# 发布日期/公开日期/发布时间 field or meta, its 成文日期 or the date under its signature
# (warehouse.parse.metadata.detect_published), or the URL's path (the parse stage, date_from_url).
PAGE_FIELD, SIGNED_DATE, URL_PATH = "page_field", "signed_date", "url_path"


@dataclass(frozen=True)
class DeadlineRule:
    regulation: str          # '2008' | '2019' (the year of the regulation in force)
    first_year: int          # first report year the rule governs
    last_year: int | None    # last report year (None: still in force)
    bodies: str              # 'all' | 'departments' (level department) | 'governments' (every other level)
    month: int               # the deadline: month and day of the year after the report year
    day: int
    article: str


RULES: tuple[DeadlineRule, ...] = (
    DeadlineRule("2008", 2008, 2018, "all", 3, 31, "2008 条例 第三十一条、第三十二条"),
    DeadlineRule("2019", 2019, None, "departments", 1, 31, "2019 条例 第四十九条"),
    DeadlineRule("2019", 2019, None, "governments", 3, 31, "2019 条例 第四十九条"),
)
FIRST_REPORT_YEAR = min(r.first_year for r in RULES)


def _applies(rule: DeadlineRule, report_year: int, level: str | None) -> bool:
    if report_year < rule.first_year or (rule.last_year is not None and report_year > rule.last_year):
        return False
    if rule.bodies == "all":
        return True
    return (level == DEPARTMENT) == (rule.bodies == "departments")


def rule_for(report_year: int, level: str | None) -> DeadlineRule | None:
    """The rule a body of `level` answers to for `report_year` (None before the first regulation)."""
    return next((r for r in RULES if _applies(r, report_year, level)), None)


def deadline(report_year: int, level: str | None) -> dt.date | None:
    """The day the report of `report_year` is due, for a body of `level`."""
    rule = rule_for(report_year, level)
    return dt.date(report_year + 1, rule.month, rule.day) if rule else None


class DeadlineRow(NamedTuple):
    """One rule as a row of the SQL VALUES list the build renders."""
    regulation: str
    first_year: int
    last_year: int
    bodies: str
    month: int
    day: int


def deadline_rows() -> list[DeadlineRow]:
    return [DeadlineRow(r.regulation, r.first_year, r.last_year if r.last_year is not None else 9999,
                        r.bodies, r.month, r.day) for r in RULES]


# ---------------------------------------------------------------- the date in a URL's path

_Y = r"(20[0-4]\d)"
_URL_DATES = (
    # TRS: /202201/t20220125_123.html (the t-number is the publication day; the folder its month)
    re.compile(r"/t" + _Y + r"(\d\d)(\d\d)_\d+"),
    # /art/2022/1/25/art_123_456.html
    re.compile(r"/art/" + _Y + r"/(\d{1,2})/(\d{1,2})/"),
    # /2022-01/25/ and /2022-01-25/
    re.compile(r"/" + _Y + r"-(\d{1,2})[/-](\d{1,2})(?=[/_.])"),
    # /2022/01/25/
    re.compile(r"/" + _Y + r"/(\d{1,2})/(\d{1,2})/"),
    # TRS attachments: /P020220125123456789.pdf ('P0', the day, a serial)
    re.compile(r"/P0" + _Y + r"(\d\d)(\d\d)\d{3,12}\.\w+$"),
    # /20220125/ or /20220125_xxx or /20220125123.html (a day stamp then a serial)
    re.compile(r"/" + _Y + r"(\d\d)(\d\d)(?=[/_.]|\d{1,12}\.\w+$)"),
)


def _date(year: str, month: str, day: str) -> dt.date | None:
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


def date_from_url(url: str | None) -> str | None:
    """The publication date a URL's path states (ISO 'YYYY-MM-DD'), or None. Only full dates
    count: a month folder alone (`/202201/`) does not say the day, so it says nothing here."""
    if not url:
        return None
    path = re.sub(r"^[a-z]+://[^/]*", "", url.strip(), flags=re.I).split("?", 1)[0].split("#", 1)[0]
    for pattern in _URL_DATES:
        m = pattern.search(path)
        if m:
            found = _date(*m.groups())
            if found is not None:
                return found.isoformat()
    return None
