"""arXiv: both formats, paging to the end, 429 retry, errors sent with HTTP 200."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import pytest_twisted

from crawlers.arxiv_atom import NotAtom, parse_page
from crawlers.run import read_summary
from crawlers.sources import SourceConfig
from pipeline.db import session

ARXIV = Path(__file__).resolve().parent.parent / "fixtures" / "crawlers" / "arxiv"
OLD = "old_format_2025-08/query_all-electron_AND_all-proton.xml"
NEW = "new_format_2025-11/query_all-electron_AND_all-proton.xml"


def arxiv(url: str, **params) -> SourceConfig:
    return SourceConfig(
        id="arxiv",
        spider="arxiv",
        urls=[url],
        queries=["all:electron"],
        params={"page_size": 4, **params},
    )


def docs(db):
    with session(db) as con:
        return con.execute(
            "SELECT doc_id, title, published, url, text, kind, lang, venue "
            "FROM documents ORDER BY doc_id"
        ).fetchall()


def test_both_formats_give_the_same_fields():
    old, new = parse_page((ARXIV / OLD).read_bytes()), parse_page((ARXIV / NEW).read_bytes())
    assert (len(old.entries), len(new.entries)) == (10, 10)
    same_old = next(e for e in old.entries if e.arxiv_id == "1602.03411")
    same_new = next(e for e in new.entries if e.arxiv_id == "1602.03411")
    assert (
        same_old.title
        == same_new.title
        == ("Effects of electron temperature anisotropy on proton mirror instability evolution")
    )
    assert same_old.published == same_new.published
    assert same_new.published.isoformat() == "2016-02-10T15:36:31+00:00"
    assert same_old.summary == same_new.summary
    assert same_new.abs_url == "https://arxiv.org/abs/1602.03411v1"
    assert same_old.pdf_url == "http://arxiv.org/pdf/1602.03411v1"
    assert same_new.primary_category == same_old.primary_category == "physics.plasm-ph"
    assert same_new.authors == ("Narges Ahmadi", "Kai Germaschewski", "Joachim Raeder")


def test_placeholders_without_id_are_skipped():
    page = parse_page((ARXIV / "old_format_2025-08/query_id_list_4ids_one_exists.xml").read_bytes())
    assert ([e.arxiv_id for e in page.entries], page.skipped) == (["2201.13452"], 3)


@pytest.mark.parametrize(
    "name",
    [
        "errors/error_incorrect_id_format_official_doc.xml",
        "errors/error_start_must_be_integer_CONSTRUCTED_new_style.xml",
    ],
)
def test_error_entries_in_both_formats(name):
    assert parse_page((ARXIV / name).read_bytes()).error in (
        "incorrect id format for 1234.12345",
        "start must be an integer",
    )


def test_html_is_not_atom():
    with pytest.raises(NotAtom):
        parse_page((ARXIV / "errors/service_unavailable_503_CONSTRUCTED.html").read_bytes())


@pytest_twisted.inlineCallbacks
def test_paging_to_the_last_page_through_a_429(arxiv_server, db_path, run_spider):
    yield run_spider(
        arxiv(arxiv_server.url("api/query")),
        db_path,
        since=date(2025, 11, 1),
        until=date(2025, 11, 10),
    )
    starts = [r.query.get("start") for r in arxiv_server.requests if r.path == "/api/query"]
    assert starts == ["0", "4", "4", "8"]
    first = arxiv_server.requests[1].query
    assert first["search_query"] == (
        "(all:electron) AND submittedDate:[202511010000 TO 202511102359]"
    )
    assert (first["max_results"], first["sortBy"]) == ("4", "submittedDate")
    rows = docs(db_path)
    assert len(rows) == 10
    nucl = next(r for r in rows if r[0] == "arxiv:nucl-ex/0408020")
    assert nucl[1].startswith("Two-photon exchange and elastic scattering of electrons/positrons")
    assert (nucl[2], nucl[3], nucl[5], nucl[6], nucl[7]) == (
        date(2004, 8, 18),
        "https://arxiv.org/abs/nucl-ex/0408020v1",
        "paper",
        "en",
        "arXiv",
    )
    assert nucl[4].startswith("It has been suggested that two-photon exchange corrections")
    summary = read_summary(db_path, "run-1").source("arxiv")
    assert summary.statuses == {"200": 3, "404": 1, "429": 1}
    assert (summary.items_stored, summary.errors) == (10, ())


@pytest_twisted.inlineCallbacks
def test_killed_half_way_then_rerun_loses_and_duplicates_nothing(arxiv_server, db_path, run_spider):
    yield run_spider(
        arxiv(arxiv_server.url("api/query")),
        db_path,
        run_id="killed",
        CLOSESPIDER_ITEMCOUNT=4,
        STORE_BATCH_SIZE=2,
        CONCURRENT_ITEMS=1,
    )
    assert 0 < len(docs(db_path)) < 10
    arxiv_server.reset()
    yield run_spider(arxiv(arxiv_server.url("api/query")), db_path, run_id="resumed")
    assert len(docs(db_path)) == 10
    arxiv_server.reset()
    yield run_spider(arxiv(arxiv_server.url("api/query")), db_path, run_id="again")
    assert read_summary(db_path, "again").source("arxiv").items_stored == 0
    query = [r.query["search_query"] for r in arxiv_server.requests if r.path == "/api/query"]
    saved = read_summary(db_path, "resumed")
    assert saved.source("arxiv").finished
    assert query and "submittedDate:[" in query[0]


@pytest.mark.parametrize(
    ("path", "stored", "error"),
    [
        ("old/query", 10, None),
        ("new/query", 10, None),
        ("placeholders/query", 1, None),
        ("error/query", 0, "arXiv API error: incorrect id format for 1234.12345"),
        ("error-new/query", 0, "arXiv API error: start must be an integer"),
        ("html/query", 0, "HTTP 503: 503 Service Temporarily Unavailable"),
        ("truncated/query", 5, None),
    ],
)
@pytest_twisted.inlineCallbacks
def test_formats_and_errors_end_to_end(arxiv_server, db_path, run_spider, path, stored, error):
    yield run_spider(arxiv(arxiv_server.url(path), page_size=100), db_path, RETRY_TIMES=0)
    summary = read_summary(db_path, "run-1").source("arxiv")
    assert summary.items_stored == stored
    if error is None:
        assert summary.errors == ()
    else:
        assert len(summary.errors) == 1 and summary.errors[0].startswith(error)
