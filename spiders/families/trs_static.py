"""trs_static: static column pages (TRS and look-alikes).

A column page lists its report pages; its further pages are rendered `index_N.html` links
and/or a `createPageHTML(countPage, …)` script; its report pages link their attachments and,
sometimes, other reports. The link heuristics are the shared ones of spiders.discovery.
Needs from sources.yaml: entry_urls (a column page, or a report page by its URL shape).
"""
from __future__ import annotations

from spiders.discovery import PageLinks, classify_links, is_report_title, is_report_url
from spiders.families.base import Fetch, Listing, Page, SiteFamily, SourceConfig
from spiders.families.registry import register
from spiders.origins import AllowList


class TrsStatic(SiteFamily):
    name = "trs_static"

    def problems(self, source: SourceConfig) -> list[str]:
        return ["an api: block is read by family json_api only"] if source.api is not None else []

    def start(self, source: SourceConfig) -> list[Fetch]:
        """Each entry URL: a report page when its URL has a report shape, else a listing."""
        return [Fetch(url, "report" if is_report_url(url) else "listing", title=source.name)
                for url in source.entry_urls]

    def links(self, page: Page, allow: AllowList) -> PageLinks:
        """The page's links sorted by kind; families that read more from a page extend this."""
        # declared item counts matter on listing pages only (a pass over the whole text)
        return classify_links(page.text, page.url, allow, count_items=page.kind == "listing")

    def read(self, source: SourceConfig, page: Page) -> Listing:
        links = self.links(page, source.allow)
        if page.kind == "report":
            # a report page: its attachments and the reports it links to (year switches)
            return Listing(reports=links.reports, attachments=links.attachments,
                           refused=[r for r in links.refused if r.kind in ("report", "attachment")])
        # a listing: of its attachments only those titled as reports (not templates, notices)
        return Listing(
            reports=links.reports,
            attachments=[a for a in links.attachments if is_report_title(a.title)],
            next_pages=[Fetch(url, "listing") for url in links.pagination],
            columns=links.columns,
            declared_items=links.declared_item_count,
            refused=[r for r in links.refused if r.kind != "attachment" or is_report_title(r.title)],
        )


FAMILY = register(TrsStatic())
