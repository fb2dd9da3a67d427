"""Real Scrapy crawls of the rss spider against the replay server."""

from __future__ import annotations

import json
from datetime import date

import pytest
import pytest_twisted

from crawlers.run import read_summary
from crawlers.sources import SourceConfig
from pipeline.db import session
from pipeline.store import state_items

FIRST_TITLE = "Chrome OS 的 Linux 终端迎来一系列新功能，运行更轻松"


def source(*urls: str, **extra) -> SourceConfig:
    return SourceConfig(id="oschina", spider="rss", urls=list(urls), name="OSCHINA", **extra)


def stored(db):
    with session(db) as con:
        return con.execute(
            "SELECT doc_id, title, published, lang, url, canonical_url, venue, "
            "kind, source, text FROM documents ORDER BY doc_id"
        ).fetchall()


@pytest_twisted.inlineCallbacks
def test_gbk_feed_with_conflicting_header_is_stored(rss_server, db_path, run_spider):
    yield run_spider(source(rss_server.url("oschina_gbk_bytes_but_http_header_utf8.xml")), db_path)
    rows = {row[1]: row for row in stored(db_path)}
    assert len(rows) == 50
    first = rows[FIRST_TITLE]
    assert first[2] == date(2020, 4, 6)
    assert first[3] == "zh"
    assert first[4] == "https://www.oschina.net/news/114665/new-linux-terminal-in-chrome-os-83"
    assert first[0].startswith("oschina:") and len(first[0]) == len("oschina:") + 16
    assert first[6:9] == ("OSCHINA", "news", "oschina")
    assert rows["每日一博 | 探秘 ThreadLocal 的实现机制与小地雷"][2] == date(2020, 4, 5)
    summary = read_summary(db_path, "run-1").source("oschina")
    assert (summary.items_stored, summary.errors, summary.finished) == (50, (), True)
    assert summary.statuses == {"200": 1, "404": 1}  # the feed, and robots.txt


@pytest_twisted.inlineCallbacks
def test_rerun_sends_etag_gets_304_and_stores_nothing(rss_server, db_path, run_spider):
    url = rss_server.url("oschina_utf8_bom.xml")
    yield run_spider(source(url), db_path, run_id="first")
    with session(db_path) as con:
        state = dict(state_items(con, "oschina"))
    assert state[f"etag:{url}"].startswith('"')
    yield run_spider(source(url), db_path, run_id="second")
    second = read_summary(db_path, "second").source("oschina")
    assert second.items_stored == 0
    assert second.statuses.get("304") == 1
    feed_requests = [r for r in rss_server.requests if r.path == "/oschina_utf8_bom.xml"]
    assert feed_requests[1].headers.get("If-None-Match") == state[f"etag:{url}"]
    assert len(stored(db_path)) == 50


@pytest_twisted.inlineCallbacks
def test_same_items_from_another_encoding_are_not_duplicated(rss_server, db_path, run_spider):
    yield run_spider(
        source(rss_server.url("oschina_gb18030_bytes_declared_gb2312.xml")), db_path, run_id="a"
    )
    yield run_spider(
        source(rss_server.url("oschina_illegal_xml_control_chars.xml")), db_path, run_id="b"
    )
    second = read_summary(db_path, "b").source("oschina")
    assert second.items_stored == 0
    assert second.drop_reasons == {"already stored": 50}
    assert len(stored(db_path)) == 50


@pytest_twisted.inlineCallbacks
def test_html_and_waf_pages_are_source_errors(rss_server, db_path, run_spider):
    urls = [
        rss_server.url(name)
        for name in (
            "hexun_blog_rss_maintenance_page_gbk.html",
            "chongdiantou_feed_waf_js_challenge.html",
        )
    ]
    yield run_spider(source(*urls), db_path)
    summary = read_summary(db_path, "run-1").source("oschina")
    assert summary.items_stored == 0
    assert sorted(e.split(" (http")[0] for e in summary.errors) == [
        "blocked: an anti-bot/WAF JavaScript challenge was served instead of the feed",
        "not a feed: an HTML page was served at the feed URL (title: 和讯博客 -- 系统维护中)",
    ]
    assert summary.health == "failing"


@pytest_twisted.inlineCallbacks
def test_429_is_retried_after_waiting(rss_server, db_path, run_spider):
    yield run_spider(source(rss_server.url("throttled.xml")), db_path)
    summary = read_summary(db_path, "run-1").source("oschina")
    assert summary.statuses == {"200": 1, "404": 1, "429": 1}
    assert summary.items_stored == 50
    assert summary.errors == ()


@pytest_twisted.inlineCallbacks
def test_persistent_503_is_recorded_after_retries(rss_server, db_path, run_spider):
    yield run_spider(source(rss_server.url("down.xml")), db_path, RETRY_TIMES=1)
    summary = read_summary(db_path, "run-1").source("oschina")
    assert summary.statuses["503"] == 2
    assert summary.errors == (
        f"HTTP 503: 503 Service Unavailable Service Unavailable ({rss_server.url('down.xml')})",
    )


@pytest_twisted.inlineCallbacks
def test_rdf_dates_window_and_drop_reasons(rss_server, db_path, run_spider):
    config = SourceConfig(
        id="wire", spider="rss", urls=[rss_server.url("rss10_dc_date_CONSTRUCTED.rdf")]
    )
    yield run_spider(config, db_path, since=date(2025, 3, 1))
    rows = stored(db_path)
    assert [(r[1], r[2], r[3], r[5], r[9]) for r in rows] == [
        (
            "Humanoid robot & solid-state battery pilot line opens",
            date(2025, 3, 3),
            "en",
            "https://example.org/news/1",
            "A pilot line for solid-state cells.",
        )
    ]
    summary = read_summary(db_path, "run-1").source("wire")
    assert summary.drop_reasons == {"no publication date": 1}
    assert json.dumps(summary.errors) == "[]"


@pytest_twisted.inlineCallbacks
def test_since_window_drops_older_items(rss_server, db_path, run_spider):
    yield run_spider(
        source(rss_server.url("oschina_utf8_bom.xml")), db_path, since=date(2020, 4, 6)
    )
    summary = read_summary(db_path, "run-1").source("oschina")
    assert summary.items_stored + summary.drop_reasons["outside the date window"] == 50
    assert all(row[2] >= date(2020, 4, 6) for row in stored(db_path))


@pytest.mark.parametrize("tag", ["utf8", "gbk", "gb18030"])
@pytest_twisted.inlineCallbacks
def test_a_feed_cut_mid_character_stores_every_complete_item(rss_server, db_path, run_spider, tag):
    url = rss_server.url(f"oschina_cut_mid_char_{tag}_DERIVED.xml")
    yield run_spider(source(url), db_path)
    rows = {row[1]: row[2] for row in stored(db_path)}
    assert len(rows) == 16 and rows[FIRST_TITLE] == date(2020, 4, 6)
    summary = read_summary(db_path, "run-1").source("oschina")
    assert summary.drop_reasons == {"cut off": 1}
    assert summary.errors == (f"feed cut off: 16 complete entries read, 1 cut off ({url})",)
