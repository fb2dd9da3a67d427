"""EPO OPS: token, Range paging to the 2000 cap, date-window splits, 404, 403 and throttling."""

from __future__ import annotations

import base64
import json
from datetime import date
from pathlib import Path

import pytest
import pytest_twisted

from crawlers.middlewares import ops_delay
from crawlers.ops_xml import NotOps, parse_fault, parse_search
from crawlers.params import CrawlParams
from crawlers.run import read_summary
from crawlers.sources import SourceConfig
from crawlers.spiders.epo_ops import Slice, windows
from pipeline.db import session

EPO = Path(__file__).resolve().parent.parent / "fixtures" / "crawlers" / "epo_ops"
CREDENTIALS = CrawlParams(epo_ops_key="Foo", epo_ops_secret="Bar")
DAY = date(2025, 10, 20)
SEARCH = "/3.2/rest-services/published-data/search/biblio"


def epo(url: str, **params) -> SourceConfig:
    return SourceConfig(id="epo-ops", spider="epo_ops", urls=[url], queries=["H01M"], params=params)


def docs(db):
    with session(db) as con:
        return con.execute(
            "SELECT doc_id, title, published, url, text, lang, kind, meta "
            "FROM documents ORDER BY doc_id"
        ).fetchall()


def test_biblio_search_page_gives_exact_fields():
    page = parse_search((EPO / "real_2025-10/search_with_constituent.response.xml").read_bytes())
    assert (page.total, page.begin, page.end, page.references_only) == (10000, 1, 3, 0)
    flywheel = page.docs[1]
    assert (flywheel.docdb, flywheel.family_id, flywheel.published, flywheel.title_lang) == (
        "AU.2024265697.A1",
        "86763335",
        date(2025, 10, 23),
        "en",
    )
    assert flywheel.title == (
        "A STEAM TURBINE ROTOR FLYWHEEL SYSTEM FOR GRID FREQUENCY STABILIZATION"
    )
    assert flywheel.abstract.startswith("A method of providing a flywheel system for grid")
    assert flywheel.cpc[:2] == ("F01D1/02", "F01D15/10")
    assert flywheel.applicants == ("SIEMENS ENERGY GLOBAL GMBH & CO KG",)
    assert (page.docs[2].title, page.docs[2].title_lang) == ("ENERGILAGRINGSSYSTEM", "ol")


@pytest.mark.parametrize(
    ("name", "fault"),
    [
        (
            "errors/no_results_404_SERVER.EntityNotFound_CONSTRUCTED.xml",
            "SERVER.EntityNotFound: No results found",
        ),
        (
            "errors/search_range_beyond_2000_400_CONSTRUCTED.xml",
            "CLIENT.InvalidQuery: The request was invalid",
        ),
        ("cassettes_2016/auth_accesstoken_401_bad_credentials.xml", "401: ClientId is Invalid"),
        ("errors/gateway_500_html_CONSTRUCTED.html", None),
    ],
)
def test_faults_of_both_shapes(name, fault):
    assert parse_fault((EPO / name).read_bytes()) == fault


def test_html_is_not_ops():
    with pytest.raises(NotOps):
        parse_search((EPO / "errors/gateway_500_html_CONSTRUCTED.html").read_bytes())


def test_windows_and_cql():
    assert list(windows(date(2025, 1, 1), date(2025, 1, 10), 4)) == [
        (date(2025, 1, 1), date(2025, 1, 4)),
        (date(2025, 1, 5), date(2025, 1, 8)),
        (date(2025, 1, 9), date(2025, 1, 10)),
    ]
    piece = Slice("H01M", date(2025, 1, 1), date(2025, 1, 4))
    assert piece.cql() == 'cpc=H01M and pd within "20250101 20250104"'
    assert [h.cql() for h in piece.halves()] == [
        'cpc=H01M and pd within "20250101 20250102"',
        'cpc=H01M and pd within "20250103 20250104"',
    ]
    assert Slice("ti=battery", DAY, DAY).cql() == '(ti=battery) and pd within "20251020 20251020"'


def test_throttling_colours_set_the_delay():
    header = "busy (images=green:200, retrieval=yellow:100, search={}:30)"
    assert [ops_delay(header.format(c)) for c in ("green", "yellow", "red", "black")] == [
        2.0,
        4.0,
        8.0,
        None,
    ]


@pytest_twisted.inlineCallbacks
def test_range_paging_to_the_2000_cap(replay, db_path, run_spider):
    server = replay("epo_ops")
    yield run_spider(epo(server.url("3.2")), db_path, since=DAY, until=DAY, settings=CREDENTIALS)
    (auth,) = [r for r in server.requests if r.path == "/3.2/auth/accesstoken"]
    assert (auth.method, auth.body) == ("POST", b"grant_type=client_credentials")
    assert auth.headers["Authorization"] == "Basic " + base64.b64encode(b"Foo:Bar").decode()
    searches = [r for r in server.requests if r.path == SEARCH]
    assert [s.query["Range"] for s in searches] == [f"{b}-{b + 99}" for b in range(1, 2000, 100)]
    assert {s.query["q"] for s in searches} == {'cpc=H01M and pd within "20251020 20251020"'}
    assert {s.headers["Authorization"] for s in searches} == {"Bearer THIS_IS_THE_TOKEN"}
    rows = docs(db_path)
    assert [r[0] for r in rows] == [
        "epo:AU.2024265697.A1",
        "epo:AU.2024270787.A1",
        "epo:DK.3740998.T3",
    ]
    assert rows[0][1:3] == (
        "A STEAM TURBINE ROTOR FLYWHEEL SYSTEM FOR GRID FREQUENCY STABILIZATION",
        date(2025, 10, 23),
    )
    assert rows[0][3] == "https://worldwide.espacenet.com/patent/search?q=pn%3DAU2024265697A1"
    assert rows[0][4].startswith("A method of providing a flywheel system")
    assert rows[0][5:7] == ("en", "patent")
    assert json.loads(rows[2][7])["cpc"][:2] == ["H01G2/08", "H01M10/613"]
    summary = read_summary(db_path, "run-1").source("epo-ops")
    assert summary.items_stored == 3
    assert summary.drop_reasons == {"search reference without bibliographic data": 95}
    assert summary.errors[0].startswith(
        '10000 results for cpc=H01M and pd within "20251020 '
        '20251020"; OPS serves only the first 2000'
    )


@pytest_twisted.inlineCallbacks
def test_too_many_results_split_the_window_and_404_means_none(replay, db_path, run_spider):
    server = replay("epo_ops")
    yield run_spider(
        epo(server.url("split/3.2")),
        db_path,
        since=DAY,
        until=date(2025, 10, 21),
        settings=CREDENTIALS,
    )
    searches = [r.query["q"] for r in server.requests if r.path == "/split" + SEARCH]
    assert searches[:1] + sorted(searches[1:]) == [
        'cpc=H01M and pd within "20251020 20251021"',
        'cpc=H01M and pd within "20251020 20251020"',
        'cpc=H01M and pd within "20251021 20251021"',
    ]
    summary = read_summary(db_path, "run-1").source("epo-ops")
    assert (summary.items_stored, summary.errors) == (0, ())


@pytest_twisted.inlineCallbacks
def test_token_is_refreshed_before_it_expires(replay, db_path, run_spider):
    server = replay("epo_ops")
    # a margin longer than the token's 1199 s life: every search needs a fresh token
    yield run_spider(
        epo(server.url("split/3.2"), token_margin_s=1200),
        db_path,
        since=DAY,
        until=date(2025, 10, 21),
        settings=CREDENTIALS,
    )
    paths = [
        r.path.removeprefix("/split/3.2/") for r in server.requests if r.path.startswith("/split/")
    ]
    assert paths[0] == "auth/accesstoken"
    assert (
        sorted(paths)
        == ["auth/accesstoken"] * 3 + ["rest-services/published-data/search/biblio"] * 3
    )


@pytest_twisted.inlineCallbacks
def test_rerun_stores_nothing_new(replay, db_path, run_spider):
    server = replay("epo_ops")
    yield run_spider(epo(server.url("3.2")), db_path, since=DAY, until=DAY, settings=CREDENTIALS)
    server.reset()
    yield run_spider(
        epo(server.url("3.2")), db_path, run_id="again", since=DAY, until=DAY, settings=CREDENTIALS
    )
    again = read_summary(db_path, "again").source("epo-ops")
    assert (again.items_stored, again.drop_reasons["already stored"]) == (0, 3)


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("noresults", None),
        ("entity-not-found", None),
        ("synthetic-404", None),
        ("quota", "HTTP 403: IndividualQuotaPerHour; stopped"),
        ("black", "HTTP 403: IndividualQuotaPerHour; stopped"),
        ("invalid", "HTTP 400: CLIENT.InvalidQuery: The request was invalid"),
        ("gateway", "HTTP 500: 500 Internal Server Error"),
        ("synthetic-429", "HTTP 429: 429: Fair use limit exceeded"),
        ("badauth", "EPO OPS token refused: HTTP 401: 401: ClientId is Invalid"),
    ],
)
@pytest_twisted.inlineCallbacks
def test_errors_are_recorded_not_raised(replay, db_path, run_spider, path, error):
    server = replay("epo_ops")
    yield run_spider(
        epo(server.url(f"{path}/3.2")),
        db_path,
        since=DAY,
        until=DAY,
        settings=CREDENTIALS,
        RETRY_TIMES=0,
    )
    summary = read_summary(db_path, "run-1").source("epo-ops")
    assert summary.items_stored == 0
    if error is None:
        assert summary.errors == ()
    else:
        assert len(summary.errors) == 1 and summary.errors[0].startswith(error)


@pytest_twisted.inlineCallbacks
def test_without_credentials_nothing_is_requested(replay, db_path, run_spider):
    server = replay("epo_ops")
    yield run_spider(epo(server.url("3.2")), db_path, since=DAY, until=DAY)
    assert [r for r in server.requests if r.path != "/robots.txt"] == []
    assert (
        read_summary(db_path, "run-1")
        .source("epo-ops")
        .errors[0]
        .startswith("no EPO OPS credentials")
    )
