"""trs_static: static column pages (TRS and look-alikes).

A column page lists its report pages; its further pages are rendered `index_N.html` links
and/or a `createPageHTML(countPage, …)` script; its report pages link their attachments and,
sometimes, other reports. The link heuristics are the shared ones of spiders.discovery.
Needs from sources.yaml: entry_urls (a column page, or a report page by its URL shape).
"""
from __future__ import annotations

from spiders.discovery import PageLinks, classify_links, is_report_title, is_report_url, page_images
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
            # a report page: its attachments, its images (a 图片版 report's tables) and the reports
            # it links to (year switches)
            attachments, refused = with_page_images(page, source.allow, links)
            return Listing(reports=links.reports, attachments=attachments,
                           refused=[r for r in refused if r.kind in ("report", "attachment")])
        # a listing: of its attachments only those titled as reports (not templates, notices)
        return Listing(
            reports=links.reports,
            attachments=[a for a in links.attachments if is_report_title(a.title)],
            next_pages=[Fetch(url, "listing") for url in links.pagination],
            columns=links.columns,
            declared_items=links.declared_item_count,
            refused=[r for r in links.refused if r.kind != "attachment" or is_report_title(r.title)],
        )


def with_page_images(page: Page, allow: AllowList, links: PageLinks) -> tuple[list, list]:
    """A report page's attachments followed by its images not linked already (spiders.discovery.
    page_images), and its refused links with the images refused; fetched as attachments with the
    page as referer, so that the parse stage reads a page of images as one report."""
    images, refused_images = page_images(page.text, page.url, allow)
    known = {a.url for a in links.attachments} | {r.url for r in links.refused}
    attachments = links.attachments + [i for i in images if i.url not in known]
    refused = links.refused + [r for r in refused_images if r.url not in known]
    return attachments, refused


FAMILY = register(TrsStatic())
