"""Crawls that end: deadlines, the reachability probe, failures named, future dates dropped,
store writes off the reactor thread, crawl runs listed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest_twisted
from typer.testing import CliRunner

import crawlers.pipelines
from crawlers.params import CrawlParams
from crawlers.pipelines import FUTURE_DATE
from crawlers.probe import unreachable
from crawlers.replay import serve
from crawlers.run import SourceCrawl, read_summary, run_crawl
from crawlers.sources import SourceConfig
from observatory.cli import app

UNKNOWN = "http://no-such-host.invalid/feed.xml"


def rss(url: str, source_id: str = "wire") -> SourceConfig:
    return SourceConfig(id=source_id, spider="rss", urls=[url])


def test_an_unknown_host_fails_fast_and_is_named(db_path: Path) -> None:
    heard: list[SourceCrawl] = []
    started = time.monotonic()
    summary = run_crawl(db_path, spider="rss", url=UNKNOWN, on_source=heard.append)
    assert time.monotonic() - started < 60
    crawl = summary.source("rss-no-such-host.invalid")
    assert crawl.requests == 0 and crawl.failed and summary.all_failed
    assert crawl.errors[0].startswith(
        "skipped: cannot reach no-such-host.invalid:80 (host name does not resolve"
    )
    assert [s.source_id for s in heard] == ["rss-no-such-host.invalid"]
    assert heard[0].line() == f"rss-no-such-host.invalid: {crawl.errors[0]}"


def test_crawl_command_exits_1_when_every_source_failed(db_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["crawl", "--spider", "rss", "--url", UNKNOWN, "--db", str(db_path)]
    )
    assert result.exit_code == 1
    assert "rss-no-such-host.invalid: skipped: cannot reach" in result.stderr
    assert "error: every source failed: rss-no-such-host.invalid" in result.stderr
    assert "Traceback" not in result.output
    runs = CliRunner().invoke(app, ["runs", "--db", str(db_path)])
    assert runs.exit_code == 0 and "crawl" in runs.stdout and "failed" in runs.stdout


def test_the_probe_passes_a_live_host_and_names_a_dead_one(rss_server) -> None:
    sources = [rss(rss_server.url("x.xml"), "live"), rss("http://127.0.0.1:9/feed", "dead")]
    lost = unreachable(sources, {}, timeout_s=2)
    assert list(lost) == ["dead"]
    assert lost["dead"].startswith("cannot reach 127.0.0.1:9")


@pytest_twisted.inlineCallbacks
def test_a_source_stops_at_its_deadline(rss_server, db_path, run_spider):
    started = time.monotonic()
    yield run_spider(
        rss(rss_server.url("slow_feed_CONSTRUCTED.xml")), db_path, CLOSESPIDER_TIMEOUT=1
    )
    assert time.monotonic() - started < 15
    crawl = read_summary(db_path, "run-1").source("wire")
    # Closing waits for the download in flight; what it brings is still stored.
    assert crawl.finished
    assert crawl.errors == ("deadline: stopped after 1 s (setting crawl_source_timeout_s)",)


def test_the_whole_crawl_stops_at_its_deadline(rss_server, db_path) -> None:
    params = CrawlParams(crawl_timeout_s=1, crawl_source_timeout_s=0)
    summary = run_crawl(
        db_path,
        spider="rss",
        url=rss_server.url("slow_feed_CONSTRUCTED.xml"),
        params=params,
        polite=False,
    )
    crawl = summary.sources[0]
    assert crawl.errors == (
        "deadline: the whole crawl stopped after 1 s (setting crawl_timeout_s)",
    )


def _feed(days_ahead: list[int]) -> str:
    now = datetime.now(UTC)
    items = "".join(
        f"<item><title>Item {n}</title><link>http://example.org/{n}</link>"
        f"<pubDate>{format_datetime(now + timedelta(days=ahead))}</pubDate></item>"
        for n, ahead in enumerate(days_ahead)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    )


@pytest_twisted.inlineCallbacks
def test_future_dates_are_dropped_with_their_reason(tmp_path, db_path, run_spider):
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "feed.xml").write_text(_feed([0, 1, 3, 30]), "utf-8")
    with serve(folder) as server:
        yield run_spider(rss(server.url("feed.xml")), db_path)
    crawl = read_summary(db_path, "run-1").source("wire")
    assert crawl.items_stored == 2
    assert crawl.drop_reasons == {FUTURE_DATE: 2}


@pytest_twisted.inlineCallbacks
def test_store_writes_leave_the_reactor_thread(rss_server, db_path, run_spider, monkeypatch):
    threads: list[str] = []
    real = crawlers.pipelines.session

    def recording(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(crawlers.pipelines, "session", recording)
    yield run_spider(rss(rss_server.url("oschina_utf8_bom.xml")), db_path, STORE_BATCH_SIZE=10)
    assert len(threads) >= 6  # open, five batches of ten, the last log
    assert threading.current_thread().name not in threads
    assert all("store-writer" in name for name in threads)
    assert read_summary(db_path, "run-1").source("wire").items_stored == 50


def test_ctrl_c_ends_a_crawl_with_one_line_and_an_interrupted_log(rss_server, db_path) -> None:
    root = Path(__file__).resolve().parents[2]
    command = [
        sys.executable,
        "-c",
        "from observatory.cli import app; app()",
        "crawl",
        "--spider",
        "rss",
        "--url",
        rss_server.url("slow_feed_CONSTRUCTED.xml"),
        "--db",
        str(db_path),
    ]
    child = subprocess.Popen(
        command,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    deadline = time.monotonic() + 120
    while not any(r.path == "/slow_feed_CONSTRUCTED.xml" for r in rss_server.requests):
        assert time.monotonic() < deadline and child.poll() is None
        time.sleep(0.2)
    os.killpg(child.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130
    assert "crawl interrupted: documents stored so far are kept" in stderr
    assert "Traceback" not in stderr
    crawl = next(iter(read_summary(db_path, _only_run(db_path)).sources))
    assert crawl.health == "interrupted"


def _only_run(db_path: Path) -> str:
    from pipeline.db import session

    with session(db_path, read_only=True) as con:
        return str(con.execute("SELECT DISTINCT run_id FROM crawl_log").fetchall()[0][0])
