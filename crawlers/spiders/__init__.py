"""The spiders, by name."""

from __future__ import annotations

from crawlers.spiders.arxiv import ArxivSpider
from crawlers.spiders.base import SourceSpider
from crawlers.spiders.epo_ops import EpoOpsSpider
from crawlers.spiders.gdelt import GdeltSpider
from crawlers.spiders.google_news import GoogleNewsSpider
from crawlers.spiders.govcn import GovCnSpider
from crawlers.spiders.miit import MiitSpider
from crawlers.spiders.news_sitemap import NewsSitemapSpider
from crawlers.spiders.openalex import OpenAlexSpider
from crawlers.spiders.patentsview import PatentsViewSpider
from crawlers.spiders.rss import RssSpider

SPIDERS: dict[str, type[SourceSpider]] = {
    cls.name: cls
    for cls in (
        RssSpider,
        ArxivSpider,
        OpenAlexSpider,
        PatentsViewSpider,
        EpoOpsSpider,
        GoogleNewsSpider,
        NewsSitemapSpider,
        GdeltSpider,
        GovCnSpider,
        MiitSpider,
    )
}
