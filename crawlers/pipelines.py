"""The one place crawled items are written: documents, incremental state and the crawl log.

Every database call runs on one writer thread (shared by all the crawl's sources), never on
the Twisted reactor thread: opening DuckDB, migrating and inserting take tens to hundreds of
milliseconds, and the reactor must keep downloading meanwhile. One thread also means the
sources' transactions never conflict with each other.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Self, cast

import duckdb
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from crawlers.items import Skipped, SourceProblem, StateUpdate
from pipeline.db import session, transaction
from pipeline.ingest import future_limit
from pipeline.records import Document
from pipeline.store import insert_documents, state_set

ALREADY_STORED = "already stored"
FUTURE_DATE = "future date"
EVENT_PREFIX = "observatory-event "
_STATUS_PREFIX = "downloader/response_status_count/"
# Why a spider closed, as Scrapy or `python -m crawlers` name it, in the words the log keeps.
_CLOSE_REASONS = {
    "closespider_timeout": "deadline: stopped after {source_timeout:g} s "
    "(setting crawl_source_timeout_s)",
    "crawl deadline": "deadline: the whole crawl stopped after {crawl_timeout:g} s "
    "(setting crawl_timeout_s)",
}
_pool: ThreadPool | None = None


def writer_pool() -> ThreadPool:
    """The crawl process's single store-writer thread, started on first use."""
    # Imported here: importing the reactor module installs a reactor, and Scrapy must choose it.
    from twisted.internet import reactor

    global _pool
    if _pool is None:
        _pool = ThreadPool(minthreads=1, maxthreads=1, name="store-writer")
        _pool.start()
        cast(Any, reactor).addSystemEventTrigger("during", "shutdown", _stop_pool)
    return _pool


def _stop_pool() -> None:
    global _pool
    if _pool is not None:
        _pool.stop()
        _pool = None


def _statuses(stats: dict[str, Any]) -> dict[str, int]:
    return {
        key.removeprefix(_STATUS_PREFIX): int(value)
        for key, value in stats.items()
        if key.startswith(_STATUS_PREFIX)
    }


def _spider_errors(stats: dict[str, Any]) -> list[str]:
    return [
        f"parser error {key.removeprefix('spider_exceptions/')} x{value}"
        for key, value in stats.items()
        if key.startswith("spider_exceptions/")
    ]


@dataclass(frozen=True)
class _LogState:
    """What the crawl log row says, copied on the reactor thread before a write."""

    requests: int
    statuses: dict[str, int]
    drops: dict[str, int]
    errors: list[str]


class StorePipeline:
    """Buffers documents and state, and writes them together in short transactions."""

    def __init__(
        self,
        db_path: Path,
        run_id: str,
        source_id: str,
        spider_name: str,
        stats: StatsCollector,
        batch_size: int,
        timeouts: dict[str, float],
        events: bool = False,
    ) -> None:
        self.db_path = db_path
        self.run_id = run_id
        self.source_id = source_id
        self.spider_name = spider_name
        self.stats = stats
        self.batch_size = batch_size
        self.timeouts = timeouts
        self.events = events
        self.docs: list[Document] = []
        self.states: dict[tuple[str, str], str | None] = {}
        self.drops: Counter[str] = Counter()
        self.errors: list[str] = []
        self.latest = future_limit()
        # Owned by the writer thread: only `_write` changes them.
        self.stored = 0
        self.duplicates = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        settings = crawler.settings
        pipeline = cls(
            Path(settings["OBSERVATORY_DB"]),
            settings["OBSERVATORY_RUN_ID"],
            settings["OBSERVATORY_SOURCE_ID"],
            crawler.spidercls.name,
            crawler.stats,
            settings.getint("STORE_BATCH_SIZE", 200),
            {
                "source_timeout": settings.getfloat("CLOSESPIDER_TIMEOUT"),
                "crawl_timeout": settings.getfloat("OBSERVATORY_CRAWL_TIMEOUT"),
            },
            settings.getbool("OBSERVATORY_EVENTS"),
        )
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    async def _off_reactor(self, function: Any, *args: Any) -> Any:
        from twisted.internet import reactor

        deferred = deferToThreadPool(cast(Any, reactor), writer_pool(), function, *args)
        return await maybe_deferred_to_future(deferred)

    async def open_spider(self) -> None:
        await self._off_reactor(self._open_log, datetime.now())

    def _open_log(self, started: datetime) -> None:
        with session(self.db_path) as con, transaction(con):
            con.execute(
                "INSERT INTO crawl_log (run_id, source_id, spider, started) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [self.run_id, self.source_id, self.spider_name, started],
            )

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Document):
            if item.published > self.latest:
                self.drops[FUTURE_DATE] += 1
                raise DropItem(f"{FUTURE_DATE}: {item.published} ({item.url or item.doc_id})")
            self.docs.append(item)
        elif isinstance(item, StateUpdate):
            self.states[(item.source_id, item.key)] = item.value
        elif isinstance(item, SourceProblem):
            self.errors.append(item.message if not item.url else f"{item.message} ({item.url})")
        elif isinstance(item, Skipped):
            self.drops[item.reason] += 1
            raise DropItem(item.reason)
        if len(self.docs) >= self.batch_size:
            await self.flush()
        return item

    def _log_state(self, extra_error: str | None = None) -> _LogState:
        stats = self.stats.get_stats()
        errors = self.errors + _spider_errors(stats) + ([extra_error] if extra_error else [])
        return _LogState(
            int(stats.get("downloader/request_count", 0)),
            _statuses(stats),
            dict(self.drops),
            errors,
        )

    async def flush(self) -> None:
        """Write buffered documents, then the state that follows them, in one transaction."""
        if not self.docs and not self.states:
            return
        docs, states = self.docs, self.states
        self.docs, self.states = [], {}
        await self._off_reactor(self._write, docs, states, self._log_state(), None)

    def _write(
        self,
        docs: list[Document],
        states: dict[tuple[str, str], str | None],
        log: _LogState,
        finished: datetime | None,
    ) -> None:
        with session(self.db_path) as con, transaction(con):
            new = insert_documents(con, docs) if docs else 0
            for (source_id, key), value in states.items():
                state_set(con, source_id, key, value)
            self._write_log(
                con, finished, log, self.stored + new, self.duplicates + len(docs) - new
            )
        self.stored += new
        self.duplicates += len(docs) - new

    async def close_spider(self) -> None:
        await self.flush()

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        """The last log write, with why the spider closed; then one event line for the parent.

        A spider closed by Ctrl-C or a kill ("shutdown") stays unfinished: `interrupted`.
        """
        problem = _CLOSE_REASONS.get(reason)
        finished = None if reason == "shutdown" else datetime.now()
        log = self._log_state(problem.format(**self.timeouts) if problem else None)
        await self._off_reactor(self._write, [], {}, log, finished)
        if self.events:
            self._emit(log, finished is not None)

    def _emit(self, log: _LogState, finished: bool) -> None:
        drops = Counter(log.drops)
        drops[ALREADY_STORED] += self.duplicates
        event = {
            "source_id": self.source_id,
            "spider": self.spider_name,
            "requests": log.requests,
            "items_stored": self.stored,
            "items_dropped": sum(drops.values()),
            "drop_reasons": {k: v for k, v in drops.items() if v},
            "statuses": log.statuses,
            "errors": log.errors,
            "finished": finished,
        }
        sys.stdout.write(EVENT_PREFIX + json.dumps(event, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def _write_log(
        self,
        con: duckdb.DuckDBPyConnection,
        finished: datetime | None,
        log: _LogState,
        stored: int,
        duplicates: int,
    ) -> None:
        drops = Counter(log.drops)
        drops[ALREADY_STORED] += duplicates
        drops = Counter({reason: n for reason, n in drops.items() if n})
        con.execute(
            "UPDATE crawl_log SET finished = ?, requests = ?, items_stored = ?, "
            "items_dropped = ?, statuses = ?, drop_reasons = ?, errors = ? "
            "WHERE run_id = ? AND source_id = ?",
            [
                finished,
                log.requests,
                stored,
                sum(drops.values()),
                json.dumps(log.statuses, sort_keys=True),
                json.dumps(drops, ensure_ascii=False, sort_keys=True),
                json.dumps(log.errors, ensure_ascii=False),
                self.run_id,
                self.source_id,
            ],
        )


def log_skipped(
    db_path: Path, run_id: str, source_id: str, spider: str, error: str, events: bool
) -> None:
    """A source the crawl never started (its host did not answer): a finished, failed row."""
    now = datetime.now()
    with session(db_path) as con, transaction(con):
        con.execute(
            "INSERT INTO crawl_log (run_id, source_id, spider, started, finished, statuses, "
            "drop_reasons, errors) VALUES (?, ?, ?, ?, ?, '{}', '{}', ?) ON CONFLICT DO NOTHING",
            [run_id, source_id, spider, now, now, json.dumps([error], ensure_ascii=False)],
        )
    if events:
        event = {
            "source_id": source_id,
            "spider": spider,
            "requests": 0,
            "items_stored": 0,
            "items_dropped": 0,
            "drop_reasons": {},
            "statuses": {},
            "errors": [error],
            "finished": True,
        }
        sys.stdout.write(EVENT_PREFIX + json.dumps(event, ensure_ascii=False) + "\n")
        sys.stdout.flush()
