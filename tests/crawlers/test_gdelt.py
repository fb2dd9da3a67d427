"""GDELT DOC 2.0 artlist: time slices split when full, text errors with HTTP 200, `{}` empty."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import pytest_twisted

from crawlers.gdelt_json import loads_lenient, parse_artlist
from crawlers.run import read_summary
from crawlers.sources import SourceConfig
from pipeline.db import session
from pipeline.store import state_items

GDELT = Path(__file__).resolve().parent.parent / "fixtures" / "crawlers" / "gdelt"
QUERY = '("solid-state battery" OR "固态电池")'


def gdelt(url: str, **params) -> SourceConfig:
    return SourceConfig(
        id="gdelt",
        spider="gdelt",
        urls=[url],
        queries=[QUERY],
        params={"maxrecords": 5, "slice_hours": 12, **params},
    )


def docs(db):
    with session(db) as con:
        return con.execute(
            "SELECT doc_id, title, published, url, text, lang, venue, meta "
            "FROM documents ORDER BY url"
        ).fetchall()


def test_artlist_fields():
    page = parse_artlist(
        (GDELT / "paging/window1_20240108000000-20240108120000_capped.json").read_bytes()
    )
    assert page.error is None and len(page.articles) == 5
    second = page.articles[1]
    assert (
        second.url,
        second.title,
        second.seen,
        second.domain,
        second.language,
        second.country,
    ) == (
        "https://news.example.cn/news/20240108/0002.html",
        "CONSTRUCTED：某企业固态电池中试线投产",
        datetime(2024, 1, 8, 3, 30, tzinfo=UTC),
        "news.example.cn",
        "Chinese",
        "China",
    )


def test_empty_errors_and_bad_json():
    assert parse_artlist(b"{}") == parse_artlist(b"{}\n")
    assert parse_artlist(b"{}").articles == [] and parse_artlist(b"{}").error is None
    assert parse_artlist((GDELT / "errors/phrase_too_short_200.txt").read_bytes()).error == (
        "The specified phrase is too short."
    )
    (article,) = parse_artlist(
        (GDELT / "malformed_control_chars_in_json.json").read_bytes()
    ).articles
    assert article.title == "CONSTRUCTED bad control char and a stray backslash \\x in title"
    assert article.url == "https://news.example.cn/a.html"
    assert loads_lenient('{"a": "ok \\u00e9 \\" \\\\ \\q"}') == {"a": 'ok é " \\ \\q'}


@pytest_twisted.inlineCallbacks
def test_full_windows_are_split_and_a_rerun_stores_nothing(replay, db_path, run_spider):
    server = replay("gdelt")
    source = gdelt(server.url("api/v2/doc/doc"))
    yield run_spider(source, db_path, since=date(2024, 1, 8), until=date(2024, 1, 9))
    calls = [
        (r.query["startdatetime"], r.query["enddatetime"])
        for r in server.requests
        if r.path == "/api/v2/doc/doc"
    ]
    assert calls == [
        ("20240108000000", "20240108120000"),
        ("20240108000000", "20240108060000"),
        ("20240108060000", "20240108120000"),
        ("20240108120000", "20240109000000"),
        ("20240109000000", "20240109120000"),
        ("20240109120000", "20240110000000"),
    ]
    first = server.requests[-1].query
    assert (first["query"], first["mode"], first["format"], first["maxrecords"], first["sort"]) == (
        QUERY,
        "artlist",
        "json",
        "5",
        "dateasc",
    )
    rows = docs(db_path)
    assert len(rows) == 7
    german = next(r for r in rows if r[6] == "example.de")
    assert german[1:7] == (
        "CONSTRUCTED: Festkörperbatterie – neue Förderung",
        date(2024, 1, 8),
        "https://example.de/news/20240108/0005.html",
        "",
        "de",
        "example.de",
    )
    assert german[0].startswith("gdelt:")
    assert json.loads(german[7])["seendate_utc"] == "2024-01-08T12:00:00+00:00"
    assert {r[5] for r in rows} == {"en", "zh", "de"}
    summary = read_summary(db_path, "run-1").source("gdelt")
    assert (summary.items_stored, summary.errors, summary.drop_reasons) == (
        7,
        (),
        {"already stored": 6},
    )
    with session(db_path) as con:
        assert dict(state_items(con, "gdelt")) == {f"last_end:{QUERY}": "2024-01-10T00:00:00+00:00"}
    server.reset()
    yield run_spider(
        source, db_path, run_id="again", since=date(2024, 1, 8), until=date(2024, 1, 9)
    )
    assert read_summary(db_path, "again").source("gdelt").items_stored == 0


@pytest.mark.parametrize(
    ("path", "stored", "error"),
    [
        ("phrase", 0, "GDELT error: The specified phrase is too short."),
        ("or-terms", 0, "GDELT error: Queries containing OR'd terms must be surrounded by ()."),
        ("illegal", 0, "GDELT error: One or more of your keywords contained an illegal character"),
        ("too-long", 0, "GDELT error: Your query was too short or too long."),
        ("throttled-200", 0, "GDELT error: Please limit requests to one every 5 seconds"),
        ("throttled-429", 0, "HTTP 429: Please limit requests to one every 5 seconds"),
        ("malformed", 1, None),
        ("empty", 0, None),
    ],
)
@pytest_twisted.inlineCallbacks
def test_errors_are_recorded_not_raised(replay, db_path, run_spider, path, stored, error):
    server = replay("gdelt")
    yield run_spider(
        gdelt(server.url(f"{path}/doc"), slice_hours=24),
        db_path,
        since=date(2024, 1, 8),
        until=date(2024, 1, 8),
        RETRY_TIMES=0,
    )
    summary = read_summary(db_path, "run-1").source("gdelt")
    assert summary.items_stored == stored
    if error is None:
        assert summary.errors == ()
    else:
        assert len(summary.errors) == 1 and summary.errors[0].startswith(error)
        assert error.split(":")[0] in summary.line()
