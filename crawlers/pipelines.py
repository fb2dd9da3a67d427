"""The one place crawled items are written: documents, incremental state and the crawl log."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, Self

import duckdb
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from crawlers.items import Skipped, SourceProblem, StateUpdate
from pipeline.db import session, transaction
from pipeline.records import Document
from pipeline.store import insert_documents, state_set

ALREADY_STORED = "already stored"
_STATUS_PREFIX = "downloader/response_status_count/"


def _statuses(stats: dict[str, Any]) -> dict[str, int]:
    return {key.removeprefix(_STATUS_PREFIX): int(value) for key, value in stats.items()
            if key.startswith(_STATUS_PREFIX)}


def _spider_errors(stats: dict[str, Any]) -> list[str]:
    return [f"parser error {key.removeprefix('spider_exceptions/')} x{value}"
            for key, value in stats.items() if key.startswith("spider_exceptions/")]


class StorePipeline:
    """Buffers documents and state, and writes them together in short transactions."""

    def __init__(self, db_path: Path, run_id: str, source_id: str, spider_name: str,
                 stats: StatsCollector, batch_size: int) -> None:
        self.db_path = db_path
        self.run_id = run_id
        self.source_id = source_id
        self.spider_name = spider_name
        self.stats = stats
        self.batch_size = batch_size
        self.docs: list[Document] = []
        self.states: dict[tuple[str, str], str | None] = {}
        self.stored = 0
        self.drops: Counter[str] = Counter()
        self.errors: list[str] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        settings = crawler.settings
        return cls(Path(settings["OBSERVATORY_DB"]), settings["OBSERVATORY_RUN_ID"],
                   settings["OBSERVATORY_SOURCE_ID"], crawler.spidercls.name, crawler.stats,
                   settings.getint("STORE_BATCH_SIZE", 200))

    def open_spider(self) -> None:
        with session(self.db_path) as con, transaction(con):
            con.execute(
                "INSERT INTO crawl_log (run_id, source_id, spider, started) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [self.run_id, self.source_id, self.spider_name, datetime.now()],
            )

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Document):
            self.docs.append(item)
        elif isinstance(item, StateUpdate):
            self.states[(item.source_id, item.key)] = item.value
        elif isinstance(item, SourceProblem):
            self.errors.append(item.message if not item.url else f"{item.message} ({item.url})")
        elif isinstance(item, Skipped):
            self.drops[item.reason] += 1
            raise DropItem(item.reason)
        if len(self.docs) >= self.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        """Write buffered documents, then the state that follows them, in one transaction."""
        if not self.docs and not self.states:
            return
        with session(self.db_path) as con, transaction(con):
            new = insert_documents(con, self.docs)
            for (source_id, key), value in self.states.items():
                state_set(con, source_id, key, value)
            self._write_log(con, None, self.stored + new, len(self.docs) - new)
        self.stored += new
        self.drops[ALREADY_STORED] += len(self.docs) - new
        self.docs, self.states = [], {}

    def close_spider(self) -> None:
        self.flush()
        with session(self.db_path) as con, transaction(con):
            self._write_log(con, datetime.now(), self.stored, 0)

    def _write_log(self, con: duckdb.DuckDBPyConnection, finished: datetime | None,
                   stored: int, pending_duplicates: int) -> None:
        stats = self.stats.get_stats()
        drops = Counter(self.drops)
        drops[ALREADY_STORED] += pending_duplicates
        drops = Counter({reason: n for reason, n in drops.items() if n})
        con.execute(
            "UPDATE crawl_log SET finished = ?, requests = ?, items_stored = ?, "
            "items_dropped = ?, statuses = ?, drop_reasons = ?, errors = ? "
            "WHERE run_id = ? AND source_id = ?",
            [finished, int(stats.get("downloader/request_count", 0)), stored,
             sum(drops.values()), json.dumps(_statuses(stats), sort_keys=True),
             json.dumps(drops, ensure_ascii=False, sort_keys=True),
             json.dumps(self.errors + _spider_errors(stats), ensure_ascii=False),
             self.run_id, self.source_id],
        )
