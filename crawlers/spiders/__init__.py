"""The spiders, by name."""

from __future__ import annotations

from crawlers.spiders.arxiv import ArxivSpider
from crawlers.spiders.base import SourceSpider
from crawlers.spiders.epo_ops import EpoOpsSpider
from crawlers.spiders.openalex import OpenAlexSpider
from crawlers.spiders.patentsview import PatentsViewSpider
from crawlers.spiders.rss import RssSpider

SPIDERS: dict[str, type[SourceSpider]] = {
    cls.name: cls
    for cls in (RssSpider, ArxivSpider, OpenAlexSpider, PatentsViewSpider, EpoOpsSpider)
}
