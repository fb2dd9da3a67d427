"""PatentsView PatentSearch: keyset paging, the API key header, 429/400/403 and bad bodies."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path

import pytest
import pytest_twisted

from crawlers.params import CrawlParams
from crawlers.patentsview_json import NotPatents, parse_patents
from crawlers.run import read_summary
from crawlers.sources import SourceConfig
from crawlers.spiders.patentsview import patent_query
from pipeline.db import session

PATENTSVIEW = Path(__file__).resolve().parent.parent / "fixtures" / "crawlers" / "patentsview"
KEY = "pv-secret-key-123"
KEYED = CrawlParams(patentsview_api_key=KEY)


def patentsview(url: str, **params) -> SourceConfig:
    return SourceConfig(
        id="patentsview",
        spider="patentsview",
        urls=[url],
        queries=["G06N"],
        params={"size": 6, **params},
    )


def docs(db):
    with session(db) as con:
        return con.execute(
            "SELECT doc_id, title, published, url, text, lang, venue, kind, meta "
            "FROM documents ORDER BY doc_id"
        ).fetchall()


def test_nested_record_gives_exact_fields():
    page = parse_patents((PATENTSVIEW / "patent_full_nested_fields_CONSTRUCTED.json").read_bytes())
    patent = page.patents[0]
    assert (page.total, patent.patent_id, patent.published) == (1, "9999901", date(2024, 6, 4))
    assert patent.title == "CONSTRUCTED: Sulfide solid electrolyte and all-solid-state battery"
    assert patent.abstract == "CONSTRUCTED abstract text for parser tests only."
    assert patent.cpc == ("H01M10/0562", "H01M10/0525")
    assert (patent.assignees, patent.inventors) == (("EXAMPLE BATTERY CO., LTD.",), ("San Zhang",))
    assert (patent.kind_code, patent.patent_type, patent.filing_date) == (
        "B2",
        "utility",
        "2021-12-16",
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("errors/truncated_DERIVED.json", "not JSON"),
        ("errors/502_html_CONSTRUCTED.html", "not JSON"),
        ("legacy_api/patents_query_page1.json", "legacy PatentsView API"),
    ],
)
def test_bad_bodies_are_rejected(name, reason):
    with pytest.raises(NotPatents, match=reason):
        parse_patents((PATENTSVIEW / name).read_bytes())


def test_query_is_a_cpc_prefix_in_a_date_window():
    assert patent_query("H01M", date(2024, 1, 1), date(2024, 1, 14)) == {
        "_and": [
            {"_gte": {"patent_date": "2024-01-01"}},
            {"_lte": {"patent_date": "2024-01-14"}},
            {"_begins": {"cpc_current.cpc_group_id": "H01M"}},
        ]
    }
    raw = '{"_text_phrase": {"patent_title": "neural network"}}'
    assert patent_query(raw, date(2018, 5, 22), date(2018, 5, 29))["_and"][2] == json.loads(raw)


@pytest_twisted.inlineCallbacks
def test_keyset_paging_to_the_last_page_through_a_429(replay, db_path, run_spider, caplog):
    server = replay("patentsview")
    caplog.set_level(logging.DEBUG)
    yield run_spider(
        patentsview(server.url("api/v1/patent/")),
        db_path,
        settings=KEYED,
        since=date(2018, 5, 22),
        until=date(2018, 5, 29),
    )
    calls = [r for r in server.requests if r.path == "/api/v1/patent/"]
    assert [json.loads(c.query["o"]) for c in calls] == [
        {"size": 6},
        {"size": 6, "after": "9978013"},
        {"size": 6, "after": "9978013"},
        {"size": 6, "after": "9984326"},
    ]
    assert {c.headers["X-Api-Key"] for c in calls} == {KEY}
    assert json.loads(calls[0].query["s"]) == [{"patent_id": "asc"}]
    assert json.loads(calls[0].query["q"])["_and"][:2] == [
        {"_gte": {"patent_date": "2018-05-22"}},
        {"_lte": {"patent_date": "2018-05-29"}},
    ]
    rows = docs(db_path)
    assert len(rows) == 16
    last = next(r for r in rows if r[0] == "patent:US9984772")
    assert last[1:4] == (
        "Image analytics question answering",
        date(2018, 5, 29),
        "https://patents.google.com/patent/US9984772",
    )
    assert last[4].startswith("A computer-implemented method for predicting answers")
    assert last[5:8] == ("en", "USPTO", "patent")
    summary = read_summary(db_path, "run-1").source("patentsview")
    assert (summary.statuses, summary.items_stored, summary.errors) == (
        {"200": 3, "404": 1, "429": 1},
        16,
        (),
    )
    assert KEY not in caplog.text and KEY not in summary.line()


@pytest_twisted.inlineCallbacks
def test_cpc_codes_kept_and_a_rerun_stores_nothing(replay, db_path, run_spider):
    server = replay("patentsview")
    yield run_spider(patentsview(server.url("full/api/v1/patent/")), db_path, settings=KEYED)
    (row,) = docs(db_path)
    assert row[:3] == (
        "patent:US9999901",
        "CONSTRUCTED: Sulfide solid electrolyte and all-solid-state battery",
        date(2024, 6, 4),
    )
    meta = json.loads(row[8])
    assert (meta["cpc"], meta["assignees"], meta["patent_number"]) == (
        ["H01M10/0562", "H01M10/0525"],
        ["EXAMPLE BATTERY CO., LTD."],
        "US9999901",
    )
    server.reset()
    yield run_spider(
        patentsview(server.url("full/api/v1/patent/")), db_path, run_id="again", settings=KEYED
    )
    again = read_summary(db_path, "again").source("patentsview")
    assert (again.items_stored, again.drop_reasons) == (0, {"already stored": 1})


@pytest_twisted.inlineCallbacks
def test_without_a_key_nothing_is_requested(replay, db_path, run_spider):
    server = replay("patentsview")
    yield run_spider(patentsview(server.url("api/v1/patent/")), db_path)
    assert [r for r in server.requests if r.path != "/robots.txt"] == []
    summary = read_summary(db_path, "run-1").source("patentsview")
    assert summary.errors == ("no PatentsView API key: set OBSERVATORY_PATENTSVIEW_API_KEY",)


@pytest.mark.parametrize(
    ("path", "stored", "error"),
    [
        ("bad-field", 0, "HTTP 400: Invalid field: patent_titel"),
        ("forbidden", 0, "HTTP 403: You do not have permission to perform this action."),
        ("throttled", 0, "HTTP 429: Request was throttled. Expected available in 37 seconds."),
        ("bad-gateway", 0, "HTTP 502: 502 Bad Gateway"),
        ("truncated", 0, "unreadable PatentsView page: not JSON"),
        ("legacy", 0, "unreadable PatentsView page: legacy PatentsView API answer"),
        ("truncated-once", 1, None),
        ("empty", 0, None),
    ],
)
@pytest_twisted.inlineCallbacks
def test_errors_are_recorded_not_raised(replay, db_path, run_spider, path, stored, error):
    server = replay("patentsview")
    yield run_spider(
        patentsview(server.url(f"{path}/api/v1/patent/")), db_path, settings=KEYED, RETRY_TIMES=0
    )
    summary = read_summary(db_path, "run-1").source("patentsview")
    assert summary.items_stored == stored
    if error is None:
        assert summary.errors == ()
    else:
        assert len(summary.errors) == 1 and summary.errors[0].startswith(error)
        assert error.split(":")[0] in summary.line()
