"""Feed parsing on recorded bodies: encodings, dates in UTC, broken XML, HTML at feed URLs."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawlers.feeds import NotAFeed, decode_body, parse_date, parse_feed

RSS = Path(__file__).resolve().parent.parent / "fixtures" / "crawlers" / "rss"
FIRST_TITLE = "Chrome OS 的 Linux 终端迎来一系列新功能，运行更轻松"
FIRST_LINK = "https://www.oschina.net/news/114665/new-linux-terminal-in-chrome-os-83"


def feed(name: str, content_type: str | None = None):
    return parse_feed((RSS / name).read_bytes(), content_type, "https://example.org/feed")


@pytest.mark.parametrize(
    ("name", "content_type", "encoding"),
    [
        (
            "oschina_news_rss_show_industry_2020-04-06.xml",
            "application/xml; charset=utf-8",
            "utf-8",
        ),
        ("oschina_gb18030_bytes_declared_gb2312.xml", "application/rss+xml", "gb18030"),
        ("oschina_gbk_bytes_but_http_header_utf8.xml", "text/xml; charset=utf-8", "gb18030"),
        ("oschina_utf8_bom.xml", "application/rss+xml; charset=utf-8", "utf-8"),
        ("oschina_illegal_xml_control_chars.xml", "application/rss+xml; charset=utf-8", "utf-8"),
    ],
)
def test_oschina_variants_parse_identically(name: str, content_type: str, encoding: str) -> None:
    parsed = feed(name, content_type)
    assert parsed.encoding == encoding
    assert parsed.title == "OSCHINA 社区最新新闻"
    assert parsed.lang == "zh-CN"
    assert len(parsed.entries) == 50
    first = parsed.entries[0]
    assert first.title == FIRST_TITLE
    assert first.link == FIRST_LINK
    assert first.published == datetime(2020, 4, 6, 0, 28, 46, tzinfo=UTC)
    assert parsed.entries[1].published == datetime(2020, 4, 5, 23, 50, 3, tzinfo=UTC)
    assert parsed.entries[1].categories == ("综合新闻",)


def test_truncated_feed_keeps_complete_items() -> None:
    parsed = feed("oschina_truncated.xml")
    assert 10 <= len(parsed.entries) < 50
    assert parsed.entries[0].title == FIRST_TITLE


def test_big5_without_declaration_is_sniffed() -> None:
    parsed = feed("rssant_chardet_big5.xml")
    assert parsed.title == "《11月的蕭邦》是台灣歌手周杰倫發行第六張國語專輯"


def test_gb2312_label_is_read_as_gb18030() -> None:
    body = '<?xml version="1.0" encoding="gb2312"?><rss><channel><title>新闻—要闻</title>'
    text, encoding = decode_body(body.encode("gb18030"), None)
    assert encoding == "gb18030"
    assert "新闻—要闻" in text


def test_rss10_rdf_with_dc_date_in_utc() -> None:
    parsed = feed("rss10_dc_date_CONSTRUCTED.rdf")
    assert parsed.title == "Example Robotics Wire"
    first, second = parsed.entries
    assert first.title == "Humanoid robot & solid-state battery pilot line opens"
    assert first.link == "http://example.org/news/1?utm_source=rss"
    assert first.summary == "A pilot line for solid-state cells."
    assert first.published == datetime(2025, 3, 3, 4, 30, tzinfo=UTC)
    assert second.published is None


def test_atom_entries() -> None:
    parsed = feed("ruanyifeng_blog_atom.xml")
    assert parsed.entries[0].title == "科技爱好者周刊：第 102 期"
    assert parsed.entries[0].link == "http://www.ruanyifeng.com/blog/2020/04/weekly-issue-102.html"
    assert parsed.entries[0].published == datetime(2020, 4, 10, 1, 7, 36, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "hexun_blog_rss_maintenance_page_gbk.html",
            "HTML page was served at the feed URL (title: 和讯博客 -- 系统维护中)",
        ),
        (
            "chongdiantou_feed_waf_js_challenge.html",
            "blocked: an anti-bot/WAF JavaScript challenge",
        ),
        ("d3adend_org_feed_returns_html.html", "not a feed: an HTML page"),
    ],
)
def test_html_at_a_feed_url_is_not_a_feed(name: str, message: str) -> None:
    with pytest.raises(NotAFeed, match=message.replace("(", r"\(").replace(")", r"\)")):
        feed(name, "text/html")


def test_empty_body_is_not_a_feed() -> None:
    with pytest.raises(NotAFeed, match="empty"):
        parse_feed(b"", None, "https://example.org/feed")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Mon, 06 Apr 2020 08:28:46 +0800", datetime(2020, 4, 6, 0, 28, 46, tzinfo=UTC)),
        ("2020-04-11T02:40:15Z", datetime(2020, 4, 11, 2, 40, 15, tzinfo=UTC)),
        ("2020-04-11 10:40:15", datetime(2020, 4, 11, 10, 40, 15, tzinfo=UTC)),
        ("not a date", None),
    ],
)
def test_parse_date(value: str, expected: datetime | None) -> None:
    assert parse_date(value) == expected


CUT_SOURCES = [
    ("oschina_news_rss_show_industry_2020-04-06.xml", "application/rss+xml; charset=utf-8"),
    ("oschina_gbk_bytes_but_http_header_utf8.xml", "text/xml; charset=utf-8"),
    ("oschina_gb18030_bytes_declared_gb2312.xml", "application/rss+xml"),
]


def _cuts(body: bytes, seed: int) -> list[int]:
    """Every byte around the end of the first item and inside the second item's title (a
    multi-byte character cut at each of its bytes), plus seeded cuts anywhere."""
    end = body.index(b"</item>") + len(b"</item>")
    title = body.index(b"<title>", end) + len(b"<title>")
    rng = random.Random(seed)
    return sorted(
        {*range(end - 40, end + 5), *range(title, title + 40), *rng.sample(range(len(body)), 40)}
    )


@pytest.mark.parametrize(("name", "content_type"), CUT_SOURCES)
def test_a_feed_cut_anywhere_keeps_every_complete_item(name: str, content_type: str) -> None:
    body = (RSS / name).read_bytes()
    whole = {e.title: e.published for e in parse_feed(body, content_type, "https://x/").entries}
    ends = [m.end() for m in re.finditer(rb"</item\s*>", body)]
    for cut in _cuts(body, seed=len(name)):
        complete = sum(end <= cut for end in ends)
        try:
            parsed = parse_feed(body[:cut], content_type, "https://x/")
        except NotAFeed:
            assert complete == 0, cut
            continue
        kept = [e for e in parsed.entries if not e.partial]
        assert len(kept) == complete, cut
        assert all(whole[e.title] == e.published is not None for e in kept), cut
        assert parsed.truncated and len(parsed.entries) - len(kept) <= 1, cut


@pytest.mark.parametrize(
    ("tag", "content_type"),
    [
        ("utf8", "application/rss+xml; charset=utf-8"),
        ("gbk", "text/xml; charset=utf-8"),
        ("gb18030", "application/rss+xml"),
    ],
)
def test_cut_inside_a_multibyte_character_decodes_in_the_real_encoding(
    tag: str, content_type: str
) -> None:
    parsed = feed(f"oschina_cut_mid_char_{tag}_DERIVED.xml", content_type)
    assert parsed.encoding == ("utf-8" if tag == "utf8" else "gb18030")
    assert parsed.truncated and parsed.complete_entries == 16
    assert parsed.entries[0].title == FIRST_TITLE
    assert all(e.published for e in parsed.entries[:16])


def test_a_complete_feed_is_not_truncated() -> None:
    parsed = feed("oschina_utf8_bom.xml")
    assert not parsed.truncated and parsed.complete_entries == 50
