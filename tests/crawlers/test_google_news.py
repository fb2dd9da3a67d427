"""Google News RSS search feeds: outlet from <source>, suffix stripped, metadata and link only."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import pytest_twisted

from crawlers.feeds import parse_feed
from crawlers.run import read_summary
from crawlers.sources import SourceConfig
from crawlers.spiders.google_news import article_token, split_outlet
from pipeline.db import session

CNA_TITLE = "台塑四寶股東會發超額股利朝半導體、低碳全力轉型| 證券"
GN = Path(__file__).resolve().parent.parent / "fixtures" / "crawlers" / "google_news"
ZH_TOKEN = (
    "CBMiZEFVX3lxTFBrNDdzUWM2cU9BdkFRZ2oyTVEtMlI3TDZZLUsyT2JEVk1lYkQ1Zzh3cHNuTWZnQnFhaGtW"
    "YUwwQi1mWF90RG05TVdKRFJpdU9CbG1mcFV6MUpNcG96aWFWWmlkbDY"
)


def google_news(*queries: str, urls: tuple[str, ...] = ()) -> SourceConfig:
    return SourceConfig(id="gnews", spider="google_news", queries=list(queries), urls=list(urls))


def docs(db):
    with session(db) as con:
        return con.execute(
            "SELECT doc_id, title, published, url, text, lang, venue, meta "
            "FROM documents ORDER BY published DESC, title DESC"
        ).fetchall()


def test_source_element_and_suffix():
    feed = parse_feed(
        (GN / "search_zh-TW_semiconductor_CONSTRUCTED_with_real_items.xml").read_bytes(),
        "application/xml",
        "https://news.google.com/",
    )
    first = feed.entries[0]
    assert (first.source, first.source_url) == ("中央社 CNA", "https://www.cna.com.tw")
    assert first.published == datetime(2026, 5, 16, 2, 11, tzinfo=UTC)
    assert split_outlet(first.title, first.source) == CNA_TITLE
    assert split_outlet("长江存储 IPO 辅导完成-观察者网 - guancha.cn", "") == (
        "长江存储 IPO 辅导完成-观察者网"
    )
    assert split_outlet("A - B - Outlet", "Outlet") == "A - B"
    assert split_outlet("No suffix", "") == "No suffix"
    assert article_token(first.link) == (
        "CBMiXkFVX3lxTFBReTJhSkRlckZEdU5yRy1UUUQ2VnBTb01FRnlJMzZYMTJXOEx6cG41VjhLN3NYX3cyUXV6W"
        "k1td2pTeHBUS1JqdEZieEtFdGRJT0JvclVKUTNKcXo5MVE"
    )


@pytest_twisted.inlineCallbacks
def test_search_feeds_store_metadata_only_and_a_rerun_stores_nothing(replay, db_path, run_spider):
    server = replay("google_news")
    source = google_news("长江存储 OR 长鑫存储", '"Elon Musk" richest', "qwxzv solid-state")
    base = {"google_news": server.url("rss/search")}
    yield run_spider(source, db_path, base_urls=base)
    calls = sorted(
        (r.query["q"], r.query["hl"], r.query["ceid"])
        for r in server.requests
        if r.path == "/rss/search"
    )
    assert calls == [
        ('"Elon Musk" richest', "en-US", "US:en"),
        ("qwxzv solid-state", "en-US", "US:en"),
        ("长江存储 OR 长鑫存储", "zh-CN", "CN:zh-Hans"),
    ]
    rows = docs(db_path)
    assert [r[1:7] for r in rows] == [
        (
            "长江存储 IPO 辅导完成-观察者网",
            date(2026, 8, 19),
            f"https://news.google.com/rss/articles/{ZH_TOKEN}?oc=5",
            "",
            "zh",
            "guancha.cn",
        ),
        (
            "全球第四！长鑫存储 DDR5 良率站上 90%，撕开韩国存储霸权一个口子！",
            date(2026, 8, 19),
            rows[1][3],
            "",
            "zh",
            "电子工程专辑",
        ),
        (
            "Elon Musk Reclaims The Title Of World's Richest Person",
            date(2023, 2, 28),
            rows[2][3],
            "",
            "en",
            "NDTV",
        ),
    ]
    assert rows[0][0].startswith("gnews:") and len(rows[0][0]) == len("gnews:") + 16
    meta = json.loads(rows[0][7])
    assert (meta["outlet"], meta["outlet_url"], meta["token"], meta["published_utc"]) == (
        "guancha.cn",
        "https://www.guancha.cn",
        ZH_TOKEN,
        "2026-08-19T05:59:00+00:00",
    )
    summary = read_summary(db_path, "run-1").source("gnews")
    assert (summary.items_stored, summary.errors) == (3, ())
    server.reset()
    yield run_spider(source, db_path, run_id="again", base_urls=base)
    again = read_summary(db_path, "again").source("gnews")
    assert (again.items_stored, again.errors, again.statuses) == (0, (), {"304": 3, "404": 1})


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("throttled", "blocked: Google 'unusual traffic' page (HTTP 429)"),
        ("consent", "blocked: HTTP 302 redirect to a consent page"),
    ],
)
@pytest_twisted.inlineCallbacks
def test_blocks_are_recorded_source_errors(replay, db_path, run_spider, query, error):
    server = replay("google_news")
    yield run_spider(
        google_news(query), db_path, base_urls={"gnews": server.url("rss/search")}, RETRY_TIMES=0
    )
    summary = read_summary(db_path, "run-1").source("gnews")
    assert summary.items_stored == 0
    assert len(summary.errors) == 1 and summary.errors[0].startswith(error)
    assert error in summary.line()
    assert not any("consent.google.com" in r.headers.get("Host", "") for r in server.requests)


@pytest_twisted.inlineCallbacks
def test_configured_feed_url_is_read_as_is(replay, db_path, run_spider):
    server = replay("google_news")
    url = server.url("search_zh-TW_semiconductor_CONSTRUCTED_with_real_items.xml")
    yield run_spider(google_news(urls=(url,)), db_path)
    rows = docs(db_path)
    assert [(r[1], r[2], r[5], r[6]) for r in rows] == [
        (CNA_TITLE, date(2026, 5, 16), "zh", "中央社 CNA"),
        ("印度 2032 晶片自主，人才缺口何解？", date(2026, 5, 15), "zh", "TechNews 科技新報"),
    ]
