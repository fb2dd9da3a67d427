"""Builds the crawlers of one crawl (one per source) with their settings and saved state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler

from crawlers.settings import source_settings
from crawlers.sources import SourceConfig
from crawlers.spiders import SPIDERS
from pipeline.db import session
from pipeline.errors import InputError
from pipeline.store import state_items


@dataclass(frozen=True)
class CrawlPlan:
    """One source to crawl: its spider class and the keyword arguments it starts with."""

    source: SourceConfig
    spider_kwargs: dict[str, Any]


def plan_crawl(
    db_path: Path,
    sources: Sequence[SourceConfig],
    since: date | None,
    until: date | None,
    base_urls: Mapping[str, str],
) -> list[CrawlPlan]:
    """Each source with its saved state, read once before the spiders start."""
    for source in sources:
        if source.spider not in SPIDERS:
            raise InputError(
                f"source {source.id!r}: unknown spider {source.spider!r}; "
                f"known: {', '.join(sorted(SPIDERS))}"
            )
    with session(db_path) as con:
        states = {s.id: dict(state_items(con, s.id)) for s in sources}
    now = datetime.now()
    return [
        CrawlPlan(
            source,
            {
                "source": source,
                "since": since,
                "until": until,
                "state": states[source.id],
                "fetched_at": now,
                "base_url": _base_url(base_urls, source),
            },
        )
        for source in sources
    ]


def _base_url(base_urls: Mapping[str, str], source: SourceConfig) -> str | None:
    return base_urls.get(source.id) or base_urls.get(source.spider)


def build_crawler(plan: CrawlPlan, base: Mapping[str, Any], init_reactor: bool = False) -> Crawler:
    """A Scrapy crawler for one planned source, with that source's politeness settings."""
    return Crawler(
        SPIDERS[plan.source.spider], source_settings(base, plan.source), init_reactor=init_reactor
    )
