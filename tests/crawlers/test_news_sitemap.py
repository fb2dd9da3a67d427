"""News sitemaps: news: fields parsed directly, found through robots.txt, indexes and .gz."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import pytest_twisted

from crawlers.run import read_summary
from crawlers.sitemaps import NotASitemap, parse_sitemap, robots_sitemaps
from crawlers.sources import SourceConfig
from pipeline.db import session

SITEMAPS = Path(__file__).resolve().parent.parent / "fixtures" / "crawlers" / "sitemaps"
ZH = SITEMAPS / "news_sitemap_zh_CONSTRUCTED.xml"


def sitemap_source(*urls: str) -> SourceConfig:
    return SourceConfig(id="example-cn", spider="news_sitemap", urls=list(urls), name="示例新闻网")


def docs(db):
    with session(db) as con:
        return con.execute(
            "SELECT doc_id, title, published, url, text, lang, venue, meta "
            "FROM documents ORDER BY url"
        ).fetchall()


def test_news_fields_are_parsed_from_the_zh_sitemap():
    first, second, third, plain = parse_sitemap(ZH.read_bytes()).entries
    assert (first.loc, first.title, first.language, first.publication) == (
        "https://news.example.cn/tech/2024-01/08/c_1130001.htm",
        "工信部等七部门：加快推动未来产业创新发展",
        "zh-cn",
        "示例新闻网",
    )
    assert first.published == datetime(2024, 1, 8, 1, 15, tzinfo=UTC)
    assert (second.loc, second.title, second.language, second.published) == (
        "https://news.example.cn/tech/2024-01/08/c_1130002.htm?from=sitemap&ch=tech",
        "人形机器人 & 具身智能：产业链观察",
        "zh-cn",
        datetime(2024, 1, 8, tzinfo=UTC),
    )
    assert (third.language, third.published) == (
        "zh-tw",
        datetime(2024, 1, 7, 23, 59, 59, tzinfo=UTC),
    )
    assert (plain.loc, plain.title, plain.published) == (
        "https://news.example.cn/tech/2024-01/06/c_1129900.htm",
        "",
        None,
    )
    assert parse_sitemap(gzip.compress(ZH.read_bytes()), "application/x-gzip") == (
        parse_sitemap(ZH.read_bytes())
    )


def test_official_example_deprecated_tags_index_and_robots():
    (entry,) = parse_sitemap(
        (SITEMAPS / "google_spec_news_sitemap_official_example.xml").read_bytes()
    ).entries
    assert (entry.loc, entry.title, entry.publication, entry.language, entry.published) == (
        "http://www.example.org/business/article55.html",
        "Companies A, B in Merger Talks",
        "The Example Times",
        "en",
        datetime(2008, 12, 23, tzinfo=UTC),
    )
    (old,) = parse_sitemap(
        (SITEMAPS / "news_sitemap_deprecated_tags_CONSTRUCTED.xml").read_bytes()
    ).entries
    assert (old.title, old.publication, old.published, old.keywords) == (
        "Example title of story",
        "Example Publication",
        datetime(2017, 8, 10, 19, 5, tzinfo=UTC),
        ("solid-state battery", "EV", "supply chain"),
    )
    index = parse_sitemap((SITEMAPS / "sitemap_index_CONSTRUCTED.xml").read_bytes())
    assert index.children == [
        "https://news.example.cn/sitemaps/news.xml",
        "https://news.example.cn/sitemaps/news_sitemap_zh.xml.gz",
        "https://news.example.cn/sitemaps/archive-2023-12.xml",
    ]
    assert parse_sitemap((SITEMAPS / "news_sitemap_empty_CONSTRUCTED.xml").read_bytes()) == (
        parse_sitemap(b"<urlset/>")
    )
    robots = (SITEMAPS / "robots_CONSTRUCTED.txt").read_text()
    assert robots_sitemaps(robots) == [
        "https://news.example.cn/sitemaps/index.xml",
        "https://news.example.cn/sitemaps/news.xml",
    ]


@pytest.mark.parametrize(
    "body",
    [
        (SITEMAPS / "sitemap_soft404_html_CONSTRUCTED.html").read_bytes(),
        b"",
        b"\x1f\x8b broken",
        b"<rss><channel/></rss>",
    ],
)
def test_non_sitemaps_are_rejected(body):
    with pytest.raises(NotASitemap):
        parse_sitemap(body)


@pytest_twisted.inlineCallbacks
def test_robots_index_and_gz_are_followed_and_a_rerun_stores_nothing(replay, db_path, run_spider):
    server = replay("sitemaps")
    source = sitemap_source("https://news.example.cn/robots.txt")
    base = {"news_sitemap": server.url("robots.txt")}
    yield run_spider(source, db_path, base_urls=base)
    paths = sorted({r.path for r in server.requests})
    assert paths == [
        "/robots.txt",
        "/sitemaps/index.xml",
        "/sitemaps/news.xml",
        "/sitemaps/news_sitemap_zh.xml.gz",
    ]
    rows = docs(db_path)
    assert [r[1:7] for r in rows] == [
        (
            "工信部等七部门：加快推动未来产业创新发展",
            date(2024, 1, 8),
            "https://news.example.cn/tech/2024-01/08/c_1130001.htm",
            "",
            "zh",
            "示例新闻网",
        ),
        (
            "人形机器人 & 具身智能：产业链观察",
            date(2024, 1, 8),
            "https://news.example.cn/tech/2024-01/08/c_1130002.htm?from=sitemap&ch=tech",
            "",
            "zh",
            "示例新闻网",
        ),
        (
            "量子計算新進展",
            date(2024, 1, 7),
            "https://news.example.cn/world/2024-01/07/c_1129990.htm",
            "",
            "zh",
            "示例新闻网",
        ),
    ]
    assert rows[0][0].startswith("example-cn:")
    meta = json.loads(rows[0][7])
    assert (meta["language"], meta["publication_date"], meta["published_utc"]) == (
        "zh-cn",
        "2024-01-08T09:15:00+08:00",
        "2024-01-08T01:15:00+00:00",
    )
    summary = read_summary(db_path, "run-1").source("example-cn")
    assert (summary.items_stored, summary.errors) == (3, ())
    assert summary.drop_reasons == {"already stored": 3, "no news:news entry": 2}
    server.reset()
    yield run_spider(source, db_path, run_id="again", base_urls=base)
    assert read_summary(db_path, "again").source("example-cn").items_stored == 0


@pytest.mark.parametrize(
    ("folder", "path", "error"),
    [
        (
            "sitemaps",
            "sitemaps/soft404.xml",
            "not a sitemap: an HTML page (soft 404?) was served at "
            "the sitemap URL (title: 页面不存在)",
        ),
        ("sitemaps/disallowed", "sitemaps/news.xml", "request failed: Forbidden by robots.txt"),
        ("sitemaps/robots508", "robots.txt", "robots.txt unavailable (HTTP 508): not crawling"),
        ("sitemaps", "sitemaps/missing.xml", "HTTP 404: not recorded"),
    ],
)
@pytest_twisted.inlineCallbacks
def test_errors_are_recorded_not_raised(replay, db_path, run_spider, folder, path, error):
    server = replay(folder)
    yield run_spider(sitemap_source(server.url(path)), db_path, RETRY_TIMES=0)
    summary = read_summary(db_path, "run-1").source("example-cn")
    assert summary.items_stored == 0
    assert len(summary.errors) == 1 and summary.errors[0].startswith(error)
    assert "error(s)" in summary.line()


@pytest_twisted.inlineCallbacks
def test_empty_sitemap_stores_nothing_without_error(replay, db_path, run_spider):
    server = replay("sitemaps")
    yield run_spider(sitemap_source(server.url("sitemaps/empty.xml")), db_path)
    summary = read_summary(db_path, "run-1").source("example-cn")
    assert (summary.items_stored, summary.errors) == (0, ())
