"""Kill -9 at seeded random moments during a real crawl against the replay server, rerun, and
compare with an uninterrupted crawl: same documents and source state, nothing duplicated.

Victims are forked from a forkserver that imported Scrapy and the spiders once, so a kill
costs the crawl's own time, not an interpreter start. (A crawl-only helper: the shared
fault-injection helper in this folder was not on main when this was written.)
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import duckdb
import pytest

from crawlers.replay import ReplayServer, serve

RSS = Path(__file__).resolve().parent.parent / "fixtures" / "crawlers" / "rss"
FEEDS = {
    "oschina": "oschina_news_rss_show_industry_2020-04-06.xml",
    "vmware": "blogs_vmware_com_wprss_rss2.xml",
}
KILLS = 10  # one seeded moment in each tenth of a crawl (see the test)
SEED = 13


def crawl(db: str, base_url: str) -> None:
    """The victim: one real crawl of two feeds, small store batches (many transactions)."""
    from scrapy.crawler import CrawlerProcess

    from crawlers.launch import build_crawler, plan_crawl
    from crawlers.params import CrawlParams
    from crawlers.settings import crawl_settings
    from crawlers.sources import SourceConfig

    sources = [
        SourceConfig(id=name, spider="rss", urls=[f"{base_url}/{file}"])
        for name, file in FEEDS.items()
    ]
    base = crawl_settings(
        CrawlParams(crawl_probe_timeout_s=0), Path(db), f"run-{time.time_ns()}", polite=False
    )
    base.update({"LOG_LEVEL": "ERROR", "STORE_BATCH_SIZE": 5})
    process = CrawlerProcess(base, install_root_handler=False)
    for index, plan in enumerate(plan_crawl(Path(db), sources, None, None, {})):
        process.crawl(build_crawler(plan, base, init_reactor=index == 0), **plan.spider_kwargs)
    process.start()


def _victim(db: str, base_url: str, ready: Connection) -> None:
    os.setpgrp()
    ready.send(True)
    ready.close()
    crawl(db, base_url)


class Killer:
    """Forks victims from a preloaded forkserver; kills one with SIGKILL after a delay."""

    def __init__(self) -> None:
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(
            ["scrapy.crawler", "crawlers.spiders", "crawlers.pipelines", "crawlers.launch"]
        )

    def run(self, db: Path, base_url: str, kill_after: float | None = None) -> tuple[bool, float]:
        parent, child = self.context.Pipe(duplex=False)
        process = self.context.Process(target=_victim, args=(str(db), base_url, child))
        process.start()
        child.close()
        assert parent.poll(120), "the victim never started"
        parent.recv()
        started = time.monotonic()
        process.join(kill_after)
        killed = process.is_alive()
        if killed:
            os.killpg(process.pid, signal.SIGKILL)
            process.join()
        else:
            assert process.exitcode == 0, f"the crawl failed on its own ({process.exitcode})"
        return killed, time.monotonic() - started


def fingerprint(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Documents and source state, without the columns that say when they were written."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            "documents": con.execute(
                "SELECT doc_id, source, kind, url, canonical_url, title, text, lang, published, "
                "content_hash, meta FROM documents ORDER BY doc_id"
            ).fetchall(),
            "source_state": con.execute(
                "SELECT source_id, key, value FROM source_state ORDER BY ALL"
            ).fetchall(),
        }
    finally:
        con.close()


def duplicates(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return int(
            con.execute(
                "SELECT (SELECT count(*) - count(DISTINCT doc_id) FROM documents) + "
                "(SELECT count(canonical_url) - count(DISTINCT canonical_url) FROM documents)"
            ).fetchall()[0][0]
        )
    finally:
        con.close()


@pytest.fixture(scope="module")
def server() -> Iterator[ReplayServer]:
    with serve(RSS) as replay:
        yield replay


def test_a_crawl_killed_anywhere_then_rerun_equals_an_uninterrupted_one(
    tmp_path: Path, server: ReplayServer
) -> None:
    killer = Killer()
    reference = tmp_path / "reference.duckdb"
    _, span = killer.run(reference, server.base_url)
    want = fingerprint(reference)
    assert len(want["documents"]) > 50 and duplicates(reference) == 0
    rng = random.Random(SEED)
    # One moment per tenth of the first 80% of a crawl (the margin absorbs a machine that
    # is faster now than when the span was measured); a victim that still ended first is not
    # counted, and its tenth is tried again with a fresh seeded moment.
    killed, tries = 0, 0
    while killed < KILLS:
        assert tries < 2 * KILLS, f"only {killed} of {tries} kills landed mid-crawl"
        delay = 0.8 * span * (killed + rng.random()) / KILLS
        db = tmp_path / f"killed-{tries}.duckdb"
        was_killed, _ = killer.run(db, server.base_url, kill_after=delay)
        killer.run(db, server.base_url)  # the rerun
        assert duplicates(db) == 0, f"try {tries}, kill at {delay:.2f} s"
        assert fingerprint(db) == want, f"try {tries}, kill at {delay:.2f} s"
        killed += was_killed
        tries += 1
    print(
        f"crawl kills: {killed} landed mid-crawl in {tries} tries (span {span:.2f} s, seed "
        f"{SEED}); every rerun equal to the uninterrupted crawl, 0 duplicated"
    )
