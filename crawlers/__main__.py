"""`python -m crawlers`: one crawl in this process; its `CrawlParams` arrive as JSON on stdin."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any, cast

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.utils.defer import deferred_from_coro

from crawlers.launch import build_crawler, plan_crawl
from crawlers.params import CrawlParams
from crawlers.pipelines import log_skipped
from crawlers.probe import unreachable
from crawlers.settings import crawl_settings
from crawlers.sources import adhoc_source, load_sources, select_sources
from pipeline.errors import ObservatoryError

CRAWL_DEADLINE = "crawl deadline"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m crawlers", description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--source", action="append", default=[], dest="sources")
    parser.add_argument("--since", type=date.fromisoformat)
    parser.add_argument("--until", type=date.fromisoformat)
    parser.add_argument("--spider")
    parser.add_argument("--url")
    parser.add_argument(
        "--base-url", action="append", default=[], help="NAME=URL: a spider's or source's base URL"
    )
    parser.add_argument("--impolite", action="store_true", help="no delays (local replays only)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    stdin = sys.stdin.read() if not sys.stdin.isatty() else ""
    params = CrawlParams.model_validate_json(stdin) if stdin.strip() else CrawlParams()
    base_urls = dict(item.split("=", 1) for item in args.base_url)
    try:
        if args.spider:
            sources = [adhoc_source(args.spider, args.url)]
        else:
            sources = select_sources(load_sources(params.sources_file), args.sources)
        plans = plan_crawl(args.db, sources, args.since, args.until, base_urls)
        lost = (
            unreachable(sources, base_urls, params.crawl_probe_timeout_s)
            if params.crawl_probe_timeout_s > 0
            else {}
        )
        for plan in plans:
            if plan.source.id in lost:
                log_skipped(
                    args.db,
                    args.run_id,
                    plan.source.id,
                    plan.source.spider,
                    f"skipped: {lost[plan.source.id]}",
                    events=True,
                )
    except ObservatoryError as error:
        print(json.dumps({"error": str(error)}), file=sys.stdout)
        return error.exit_code
    plans = [plan for plan in plans if plan.source.id not in lost]
    if plans:
        _crawl(plans, params, args.db, args.run_id, base_urls, polite=not args.impolite)
    print(json.dumps({"run_id": args.run_id, "sources": [p.source.id for p in plans]}))
    return 0


def _crawl(
    plans: list[Any],
    params: CrawlParams,
    db: Path,
    run_id: str,
    base_urls: dict[str, str],
    polite: bool,
) -> None:
    base = crawl_settings(params, db, run_id, polite=polite, base_urls=base_urls)
    base["OBSERVATORY_EVENTS"] = True
    process = CrawlerProcess(base, install_root_handler=True)
    crawlers: list[Crawler] = []
    for index, plan in enumerate(plans):
        crawler = build_crawler(plan, base, init_reactor=index == 0)
        crawlers.append(crawler)
        process.crawl(crawler, **plan.spider_kwargs)
    if params.crawl_timeout_s > 0:
        from twisted.internet import reactor

        cast(Any, reactor).callLater(params.crawl_timeout_s, _close_all, crawlers)
    process.start()


def _close_all(crawlers: list[Crawler]) -> None:
    """The whole crawl's deadline: close every spider still running, with a reason the log
    keeps (their documents so far are flushed and stay stored)."""
    for crawler in crawlers:
        engine = crawler.engine
        if engine is not None and engine.spider is not None:
            deferred_from_coro(engine.close_spider_async(reason=CRAWL_DEADLINE))


if __name__ == "__main__":
    raise SystemExit(main())
