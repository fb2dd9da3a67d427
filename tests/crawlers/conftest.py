"""Replay servers over the recorded fixtures, and a helper that runs one real crawl."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from scrapy.crawler import CrawlerRunner
from twisted.internet.defer import Deferred

from crawlers.launch import build_crawler, plan_crawl
from crawlers.params import CrawlParams
from crawlers.replay import ReplayServer, serve
from crawlers.settings import crawl_settings
from crawlers.sources import SourceConfig

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "crawlers"

RunSpider = Callable[..., "Deferred[Any]"]


def _server(source: str) -> Iterator[ReplayServer]:
    with serve(FIXTURES / source) as server:
        yield server


@pytest.fixture(scope="session")
def _rss_server() -> Iterator[ReplayServer]:
    yield from _server("rss")


@pytest.fixture
def rss_server(_rss_server: ReplayServer) -> ReplayServer:
    _rss_server.reset()
    return _rss_server


@pytest.fixture(scope="session")
def _arxiv_server() -> Iterator[ReplayServer]:
    yield from _server("arxiv")


@pytest.fixture
def arxiv_server(_arxiv_server: ReplayServer) -> ReplayServer:
    _arxiv_server.reset()
    return _arxiv_server


@pytest.fixture(scope="session")
def _replay_servers() -> Iterator[dict[str, ReplayServer]]:
    servers: dict[str, ReplayServer] = {}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def replay(_replay_servers: dict[str, ReplayServer]) -> Callable[[str], ReplayServer]:
    """`replay("openalex")`: the (rewound) server over `tests/fixtures/crawlers/openalex`."""

    def get(source: str) -> ReplayServer:
        if source not in _replay_servers:
            server = ReplayServer(FIXTURES / source)
            server.start()
            _replay_servers[source] = server
        _replay_servers[source].reset()
        return _replay_servers[source]

    return get


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "observatory.duckdb"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OBSERVATORY_DB", str(tmp_path / "observatory.duckdb"))
    for name in (
        "OBSERVATORY_PATENTSVIEW_API_KEY",
        "OBSERVATORY_EPO_OPS_KEY",
        "OBSERVATORY_EPO_OPS_SECRET",
        "OBSERVATORY_SOURCES_FILE",
        *(key for key in os.environ if key.upper().startswith("OBSERVATORY_CRAWL__")),
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def run_spider() -> RunSpider:
    """Start a real crawl of one source against a local server; returns its Deferred."""

    def run(
        source: SourceConfig,
        db: Path,
        run_id: str = "run-1",
        since: date | None = None,
        until: date | None = None,
        base_urls: Mapping[str, str] | None = None,
        settings: CrawlParams | None = None,
        **overrides: Any,
    ) -> Deferred[Any]:
        base = crawl_settings(
            settings or CrawlParams(), db, run_id, polite=False, base_urls=base_urls
        )
        base.update({"LOG_LEVEL": "WARNING", **overrides})
        plan = plan_crawl(db, [source], since, until, base_urls or {})[0]
        return CrawlerRunner(base).crawl(build_crawler(plan, base), **plan.spider_kwargs)

    return run
