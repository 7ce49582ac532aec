"""Site families: how a source's column lists its reports, one strategy per family.

Each module declares one strategy (spiders.families.base.SiteFamily: the requests that start a
source, how a fetched page reads into reports, attachments and next pages, what the source's
YAML must give) and registers it here. sources.py accepts exactly the registered names, and
ReportSpider asks family_for(source) for its strategy. No Scrapy here.

    trs_static            static column pages: index_N.html links, createPageHTML(...) scripts
    json_api              a JSON list endpoint (the api: block), page by page
    hanweb_annual_report  Hanweb's xxgkAnnualReport.jsp?area=…&fbtime=YYYY module
    generic               the fallback for any other site: the title and link heuristics, text paging
"""
from spiders.families import generic, hanweb_annual_report, json_api, trs_static  # noqa: F401  (each registers itself)
from spiders.families.registry import family_for, family_names

__all__ = ["family_for", "family_names"]
