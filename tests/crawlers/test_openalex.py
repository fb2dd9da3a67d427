"""OpenAlex: cursor paging to the end, rebuilt abstracts, topics in meta, errors recorded."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import pytest_twisted

from crawlers.openalex_json import NotWorks, parse_works, rebuild_abstract
from crawlers.params import CrawlParams
from crawlers.run import read_summary
from crawlers.sources import SourceConfig
from pipeline.db import session
from pipeline.store import state_items

OPENALEX = Path(__file__).resolve().parent.parent / "fixtures" / "crawlers" / "openalex"
FULL = OPENALEX / "works_full_records_CONSTRUCTED.json"


def openalex(url: str, **params) -> SourceConfig:
    return SourceConfig(
        id="openalex",
        spider="openalex",
        urls=[url],
        queries=["author.id:A5048491430"],
        params={"per_page": 25, **params},
    )


def docs(db):
    with session(db) as con:
        return con.execute(
            "SELECT doc_id, title, published, url, text, lang, venue, meta "
            "FROM documents ORDER BY doc_id"
        ).fetchall()


def test_full_records_give_exact_fields():
    page = parse_works(FULL.read_bytes())
    first, no_doi, chinese = page.works
    assert (page.next_cursor, page.total, page.error) == (None, 3, None)
    assert (first.openalex_id, first.doi, first.published, first.lang) == (
        "W2741809807",
        "10.7717/peerj.4375",
        date(2018, 2, 13),
        "en",
    )
    assert first.title == (
        "The state of OA: a large-scale analysis of the prevalence and impact "
        "of Open Access articles"
    )
    assert (first.url, first.venue) == ("https://doi.org/10.7717/peerj.4375", "PeerJ")
    assert first.abstract.startswith(
        "Despite growing interest in Open Access (OA) to scholarly "
        "literature, there is an unmet need for large-scale,"
    )
    assert first.abstract.endswith(
        "using the free oaDOI service, as a way to inform OA policy and practice."
    )
    assert first.topics[0] == {
        "id": "T99901",
        "name": "ILLUSTRATIVE topic (not checked against OpenAlex)",
        "score": 0.99,
        "subfield": "Library and Information Sciences",
        "field": "Social Sciences",
        "domain": "Social Sciences",
    }
    assert first.concepts[0] == {
        "id": "C2778805511",
        "name": "Citation",
        "level": 2,
        "score": 0.4473064,
    }
    assert (no_doi.doi, no_doi.abstract, no_doi.venue, no_doi.url) == (
        None,
        "",
        None,
        "https://arxiv.org/abs/2506.99999",
    )
    assert chinese.abstract == (
        "固态电池因其高安全性和高能量密度被视为下一代储能技术。本文综述了硫化物固态电解质与电极界面的"
        "副反应、空间电荷层及其调控策略，并展望了产业化面临的挑战。 Solid-state battery; sulfide "
        "electrolyte"
    )


def test_abstract_is_rebuilt_in_position_order():
    assert rebuild_abstract({"world": [1], "Hello": [0], "again": [3], "hello": [2]}) == (
        "Hello world hello again"
    )
    assert rebuild_abstract(None) == ""


def test_legacy_single_work_rebuilds_the_published_abstract():
    record = json.loads((OPENALEX / "work_W2741809807_2022_schema.json").read_bytes())
    page = parse_works(json.dumps({"meta": {"count": 1}, "results": [record]}).encode())
    work = page.works[0]
    assert (work.venue, work.url, work.doi) == (
        "PeerJ",
        "https://doi.org/10.7717/peerj.4375",
        "10.7717/peerj.4375",
    )
    assert work.abstract == parse_works(FULL.read_bytes()).works[0].abstract
    assert work.concepts[0]["score"] == pytest.approx(0.4473064)


@pytest.mark.parametrize(
    "name",
    [
        "errors/bad_gateway_502_CONSTRUCTED.html",
        "errors/truncated_body_DERIVED.json",
        "work_W2741809807_2022_schema.json",
    ],
)
def test_non_pages_are_rejected(name):
    with pytest.raises(NotWorks):
        parse_works((OPENALEX / name).read_bytes())


@pytest_twisted.inlineCallbacks
def test_cursor_paging_to_the_end_with_mailto(replay, db_path, run_spider):
    server = replay("openalex")
    yield run_spider(
        openalex(server.url("works")),
        db_path,
        since=date(2023, 1, 1),
        until=date(2023, 12, 31),
        settings=CrawlParams(openalex_mailto="team@example.org"),
    )
    calls = [r.query for r in server.requests if r.path == "/works"]
    assert [c["cursor"][:8] for c in calls] == ["*", "Ils3LCAn", "IlswLCAn", "IlswLCAn", "IlswLCAn"]
    assert len({c["cursor"] for c in calls}) == 5
    assert calls[0] == {
        "filter": "author.id:A5048491430,from_publication_date:2023-01-01,"
        "to_publication_date:2023-12-31",
        "per-page": "25",
        "cursor": "*",
        "mailto": "team@example.org",
    }
    summary = read_summary(db_path, "run-1").source("openalex")
    # the recorded walk is `select=id`: 78 ids without titles, all seen, none stored
    assert (summary.items_stored, summary.drop_reasons, summary.errors) == (0, {"no title": 78}, ())
    with session(db_path) as con:
        assert dict(state_items(con, "openalex")) == {
            "last_date:author.id:A5048491430": "2023-12-31"
        }


@pytest_twisted.inlineCallbacks
def test_full_records_are_stored_after_a_429_and_a_rerun_stores_nothing(
    replay, db_path, run_spider
):
    server = replay("openalex")
    yield run_spider(openalex(server.url("retry/works")), db_path)
    rows = docs(db_path)
    assert [r[0] for r in rows] == [
        "doi:10.7717/peerj.4375",
        "doi:10.99999/constructed.2024.001",
        "openalex:W9999999901",
    ]
    peerj = rows[0]
    assert peerj[1:4] == (
        "The state of OA: a large-scale analysis of the prevalence and impact "
        "of Open Access articles",
        date(2018, 2, 13),
        "https://doi.org/10.7717/peerj.4375",
    )
    assert peerj[4].startswith("Despite growing interest in Open Access (OA)")
    assert peerj[5:7] == ("en", "PeerJ")
    meta = json.loads(peerj[7])
    assert (meta["openalex_id"], meta["topics"][0]["id"], meta["concepts"][0]["name"]) == (
        "W2741809807",
        "T99901",
        "Citation",
    )
    assert rows[1][5] == "zh" and rows[1][4].startswith("固态电池因其高安全性")
    summary = read_summary(db_path, "run-1").source("openalex")
    assert (summary.statuses, summary.items_stored, summary.errors) == (
        {"200": 1, "404": 1, "429": 1},
        3,
        (),
    )
    server.reset()
    yield run_spider(openalex(server.url("full/works")), db_path, run_id="again")
    again = read_summary(db_path, "again").source("openalex")
    assert (again.items_stored, again.drop_reasons) == (0, {"already stored": 3})


@pytest.mark.parametrize(
    ("path", "stored", "error"),
    [
        (
            "rate-limited",
            0,
            "HTTP 429: OpenAlex API error: Rate limit exceeded You have exceeded "
            "your daily credit limit.",
        ),
        ("bad-gateway", 0, "HTTP 502: 502 Bad Gateway"),
        (
            "invalid-select",
            0,
            "HTTP 400: OpenAlex API error: Invalid query parameters error. "
            "abstract is not a valid select field.",
        ),
        (
            "invalid-filter",
            0,
            "HTTP 403: OpenAlex API error: Invalid query parameters error. "
            "Value for has_references must be true or false, not null.",
        ),
        (
            "per-page",
            0,
            "HTTP 403: OpenAlex API error: Invalid query parameters error. "
            "Param per-page must be a number.",
        ),
        ("error-200", 0, "OpenAlex API error: Invalid query parameters error. Wildcards"),
        ("truncated", 0, "unreadable OpenAlex page: not JSON"),
        ("legacy", 0, "unreadable OpenAlex page: not an OpenAlex list page"),
        ("truncated-once", 3, None),
        ("empty", 0, None),
    ],
)
@pytest_twisted.inlineCallbacks
def test_errors_are_recorded_not_raised(replay, db_path, run_spider, path, stored, error):
    server = replay("openalex")
    yield run_spider(openalex(server.url(f"{path}/works")), db_path, RETRY_TIMES=0)
    summary = read_summary(db_path, "run-1").source("openalex")
    assert summary.items_stored == stored
    if error is None:
        assert summary.errors == ()
    else:
        assert len(summary.errors) == 1 and summary.errors[0].startswith(error)
        assert error.split(":")[0] in summary.line()
