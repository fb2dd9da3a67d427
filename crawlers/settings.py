"""Scrapy settings derived from the crawl's `CrawlParams`, per crawl and per source."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crawlers.params import CrawlParams, secret
from crawlers.sources import SourceConfig

RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]


def user_agent(params: CrawlParams) -> str:
    """The project's User-Agent with the contact address, so operators can reach us."""
    return f"{params.user_agent} (contact: {params.contact})"


def crawl_settings(
    params: CrawlParams,
    db_path: Path,
    run_id: str,
    *,
    polite: bool = True,
    base_urls: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Settings shared by every source of one crawl."""
    return {
        "BOT_NAME": "observatory",
        "USER_AGENT": user_agent(params),
        "ROBOTSTXT_OBEY": True,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy 2.19 opens a remote-control HTTP port per crawler by default; nothing uses it.
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": "INFO",
        "AUTOTHROTTLE_ENABLED": polite,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "AUTOTHROTTLE_MAX_DELAY": 60.0,
        "DOWNLOAD_DELAY_JITTER": 0.5 if polite else 0.0,
        "DOWNLOAD_TIMEOUT": 60 if polite else 10,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 3,
        "RETRY_HTTP_CODES": RETRY_HTTP_CODES,
        "RETRY_AFTER_MAX_S": 300.0 if polite else 0.5,
        "RETRY_BACKOFF_S": 5.0 if polite else 0.0,
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawlers.middlewares.RetryAfterMiddleware": 550,
            "crawlers.middlewares.OpsThrottleMiddleware": 560,
        },
        "ITEM_PIPELINES": {"crawlers.pipelines.StorePipeline": 500},
        "OBSERVATORY_DB": str(db_path),
        "OBSERVATORY_RUN_ID": run_id,
        "OBSERVATORY_BASE_URLS": dict(base_urls or {}),
        "OBSERVATORY_POLITE": polite,
        "STORE_BATCH_SIZE": 200,
        # Each source stops at its deadline (Scrapy's CloseSpider extension); the whole crawl
        # at its own, enforced by `python -m crawlers` (see crawlers/__main__.py).
        "CLOSESPIDER_TIMEOUT": params.crawl_source_timeout_s,
        "OBSERVATORY_CRAWL_TIMEOUT": params.crawl_timeout_s,
        "OBSERVATORY_EVENTS": False,
        # Read by spiders' from_crawler; custom names, so Scrapy never logs them.
        "OPENALEX_MAILTO": params.openalex_mailto or params.contact,
        "PATENTSVIEW_API_KEY": secret(params.patentsview_api_key),
        "EPO_OPS_KEY": secret(params.epo_ops_key),
        "EPO_OPS_SECRET": secret(params.epo_ops_secret),
    }


def source_settings(base: Mapping[str, Any], source: SourceConfig) -> dict[str, Any]:
    """One source's crawler settings: its id, its delay and its concurrency."""
    polite = bool(base.get("OBSERVATORY_POLITE", True))
    delay = source.delay_s if polite else 0.0
    return {
        **base,
        "OBSERVATORY_SOURCE_ID": source.id,
        "DOWNLOAD_DELAY": delay,
        "AUTOTHROTTLE_START_DELAY": max(delay, 0.5),
        "CONCURRENT_REQUESTS_PER_DOMAIN": source.concurrency,
        "CONCURRENT_REQUESTS": max(source.concurrency, 2),
    }
