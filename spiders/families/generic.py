"""generic: the fallback for a site of no known family (an unknown CMS's column).

Reads a column as trs_static does (the shared title and link heuristics of spiders.discovery),
and also pages the way other CMSs do: links whose text says next/last page (下一页, 尾页 …) or is
a page number, to another page in the column's directory (list.jsp?page=2, list_2.htm …).
Needs from sources.yaml: entry_urls (a column page, or a report page by its URL shape).
"""
from __future__ import annotations

import posixpath
from urllib.parse import urlsplit

from spiders.discovery import (
    PageLinks, RefusedLink, is_attachment_url, is_report_title, is_report_url, page_anchors, page_identity,
)
from spiders.families.base import Page
from spiders.families.trs_static import TrsStatic
from spiders.families.registry import register
from spiders.origins import AllowList

PAGE_LINK_TEXTS = frozenset({"下一页", "下页", "后页", "尾页", "末页", "最后一页", ">", ">>", "›", "»", "next", "last"})
MAX_PAGE_NUMBER_DIGITS = 3  # "2" … "999": a page number, not a year or an id


def is_page_link_text(text: str) -> bool:
    text = "".join(text.split()).lower()
    return text in PAGE_LINK_TEXTS or (text.isdigit() and len(text) <= MAX_PAGE_NUMBER_DIGITS)


def text_pagination(html: str | bytes, page_url: str, allow: AllowList) -> tuple[list[str], list[RefusedLink]]:
    """The column's other pages named by their link text, in the page's own directory; those off
    the allow-list apart, with the reason."""
    own_dir = posixpath.dirname(urlsplit(page_url).path)
    own = page_identity(page_url)
    pages: dict[str, None] = {}
    refused: dict[str, RefusedLink] = {}
    for url, refusal, title in page_anchors(html, page_url, allow):
        if (not is_page_link_text(title) or posixpath.dirname(urlsplit(url).path) != own_dir
                or page_identity(url) == own or is_attachment_url(url) or is_report_url(url)
                or is_report_title(title)):
            continue
        if refusal is None:
            pages.setdefault(url)
        else:
            refused.setdefault(url, RefusedLink(url, title, "listing", refusal))
    return list(pages), list(refused.values())


class Generic(TrsStatic):
    name = "generic"

    def links(self, page: Page, allow: AllowList) -> PageLinks:
        links = super().links(page, allow)
        if page.kind == "listing":
            pages, refused = text_pagination(page.text, page.url, allow)
            known = {*links.pagination, *(r.url for r in links.refused)}
            links.pagination += [url for url in pages if url not in known]
            links.refused += [r for r in refused if r.url not in known]
        return links


FAMILY = register(Generic())
