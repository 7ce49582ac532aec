"""hanweb_annual_report: Hanweb's annual-report module, `…/xxgkAnnualReport.jsp?area=<code>&fbtime=YYYY`.

One page per area code and year: every link of that shape is a report page whatever its text
(the shared report URL shapes of spiders.discovery), and each page switches between years, by
links or by a `selectYear(YYYY)` script and a `<select>` of years. Those scripted switches are
read here as the same module URL with that fbtime.
Needs from sources.yaml: entry_urls (a module page, usually one year's report: fetched as a report).
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from spiders.discovery import Link, PageLinks, page_identity
from spiders.families.base import Page
from spiders.families.trs_static import TrsStatic
from spiders.families.registry import register
from spiders.origins import AllowList

MODULE_FILE = "xxgkannualreport.jsp"
_SCRIPTED_YEAR = re.compile(
    r"selectYear\(\s*['\"]?((?:19|20)\d{2})\b|<option\b[^>]*\bvalue\s*=\s*['\"]?((?:19|20)\d{2})\b", re.I)


def year_switches(html: str, page_url: str) -> list[Link]:
    """The module pages of the other years a module page offers by script or <select>
    (same area, fbtime=YYYY); nothing for a page outside the module or without an area."""
    parts = urlsplit(page_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "fbtime"]
    if not parts.path.lower().endswith("/" + MODULE_FILE) or not any(k == "area" for k, _ in query):
        return []
    own = page_identity(page_url)
    switches = []
    for year in dict.fromkeys(a or b for a, b in _SCRIPTED_YEAR.findall(html)):
        url = urlunsplit(parts._replace(query=urlencode([*query, ("fbtime", year)]), fragment=""))
        if page_identity(url) != own:
            switches.append(Link(url, f"{year}年"))
    return switches


class HanwebAnnualReport(TrsStatic):
    name = "hanweb_annual_report"

    def links(self, page: Page, allow: AllowList) -> PageLinks:
        links = super().links(page, allow)
        linked = {link.url for link in links.reports}
        links.reports += [link for link in year_switches(page.text, page.url)
                          if link.url not in linked and allow.allows(link.url)]
        return links


FAMILY = register(HanwebAnnualReport())
