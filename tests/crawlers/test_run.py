"""`run_crawl` in its subprocess, `list_sources`, and the demo feeds."""

from __future__ import annotations

from datetime import date

import pytest

from crawlers.replay import serve_folder
from crawlers.run import demo_feed_urls, demo_feeds_folder, list_sources, run_crawl
from pipeline.db import session
from pipeline.errors import InputError

FIRST_TITLE = "Chrome OS 的 Linux 终端迎来一系列新功能，运行更轻松"


def test_adhoc_gbk_feed_through_the_subprocess(rss_server, db_path):
    url = rss_server.url("oschina_gbk_bytes_but_http_header_utf8.xml")
    summary = run_crawl(db_path, spider="rss", url=url)
    crawl = summary.source("rss-127.0.0.1")
    assert (crawl.items_stored, crawl.errors, crawl.health) == (50, (), "ok")
    with session(db_path) as con:
        rows = dict(con.execute("SELECT title, published FROM documents").fetchall())
    assert rows[FIRST_TITLE] == date(2020, 4, 6)
    assert rows["每日一博 | 探秘 ThreadLocal 的实现机制与小地雷"] == date(2020, 4, 5)
    again = run_crawl(db_path, spider="rss", url=url)
    assert again.items_stored == 0
    assert again.run_id != summary.run_id


def test_unknown_source_is_an_input_error(db_path):
    with pytest.raises(
        InputError,
        match=r"unknown source id\(s\): no-such-source; configured: .*"
        r"arxiv, .*spacenews",
    ):
        run_crawl(db_path, ["no-such-source"])


def test_spider_needs_url(db_path):
    with pytest.raises(InputError, match="together"):
        run_crawl(db_path, spider="rss")


def test_list_sources_shows_health(db_path):
    before = list_sources(db_path)
    assert before and all(s.health == "never crawled" for s in before)


def test_demo_feeds_are_served_and_crawlable(db_path):
    with serve_folder(demo_feeds_folder()) as base_url:
        urls = demo_feed_urls(base_url)
        assert len(urls) == 3
        summaries = [run_crawl(db_path, spider="rss", url=url, polite=False) for url in urls[:1]]
    assert summaries[0].items_stored > 0
