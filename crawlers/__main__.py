"""`python -m crawlers`: one crawl in this process; settings JSON arrives on stdin."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from scrapy.crawler import CrawlerProcess

from crawlers.launch import build_crawler, plan_crawl
from crawlers.settings import crawl_settings
from crawlers.sources import adhoc_source, load_sources, select_sources
from observatory.settings import Settings
from pipeline.errors import ObservatoryError


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m crawlers", description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--source", action="append", default=[], dest="sources")
    parser.add_argument("--since", type=date.fromisoformat)
    parser.add_argument("--until", type=date.fromisoformat)
    parser.add_argument("--spider")
    parser.add_argument("--url")
    parser.add_argument("--base-url", action="append", default=[],
                        help="NAME=URL: a spider's or source's base URL")
    parser.add_argument("--impolite", action="store_true", help="no delays (local replays only)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    stdin = sys.stdin.read() if not sys.stdin.isatty() else ""
    settings = Settings.model_validate_json(stdin) if stdin.strip() else Settings()
    base_urls = dict(item.split("=", 1) for item in args.base_url)
    try:
        if args.spider:
            sources = [adhoc_source(args.spider, args.url)]
        else:
            sources = select_sources(load_sources(settings.sources_file), args.sources)
        plans = plan_crawl(args.db, sources, args.since, args.until, base_urls)
    except ObservatoryError as error:
        print(json.dumps({"error": str(error)}), file=sys.stdout)
        return error.exit_code
    base = crawl_settings(settings, args.db, args.run_id, polite=not args.impolite,
                          base_urls=base_urls)
    process = CrawlerProcess(base, install_root_handler=True)
    for index, plan in enumerate(plans):
        process.crawl(build_crawler(plan, base, init_reactor=index == 0), **plan.spider_kwargs)
    process.start()
    print(json.dumps({"run_id": args.run_id, "sources": [p.source.id for p in plans]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
