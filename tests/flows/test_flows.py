"""Real Prefect flows under a temporary Prefect server."""

import csv
import re
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from observatory.cli import app
from observatory.settings import Settings
from observatory.weekly import weekly_flow
from pipeline.db import session

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture(scope="module", autouse=True)
def prefect_harness(prefect_server):
    """The folder's shared temporary Prefect server (tests/flows/conftest.py)."""


def test_weekly_flow_ingests_processes_and_reports(tmp_path, small_corpus):
    settings = Settings(
        db=tmp_path / "w.duckdb",
        reports_dir=tmp_path / "out",
        encoder="hashing-256",
        granularity="month",
    )
    overrides = {
        "reports_dir": str(settings.reports_dir),
        "encoder": "hashing-256",
        "granularity": "month",
    }
    result = weekly_flow(
        str(settings.db), files=[str(small_corpus)], crawl=False, overrides=overrides
    )
    assert result.ingested[0].added == 804
    assert [p.period for p in result.processed.periods][-1] == "2020-03"
    assert result.report is not None and result.report.html.exists()
    with session(settings.db, read_only=True) as con:
        kinds = con.execute("SELECT kind, status FROM runs").fetchall()
    assert ("process", "completed") in kinds


@pytest.mark.slow
def test_demo_runs_offline_end_to_end(tmp_path):
    """The real demo: sample, recorded feeds, USE encoder, UMAP + HDBSCAN, report; its flagged
    topics are checked against the keyword rules that picked the sample (never its input)."""
    db = tmp_path / "demo.duckdb"
    result = CliRunner().invoke(
        app, ["demo", "--db", str(db), "--out", str(tmp_path / "r")], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    html = tmp_path / "r" / "report-quarter-2017-Q1.html"
    assert result.stdout.strip() == str(html)
    assert re.search(
        r"as of 2017-03-30; 3 recorded feeds crawled by the RSS spider: \d+ items "
        r"read, 0 kept",
        result.stderr,
    ), result.stderr
    assert f"observatory topics --status emerging --db {db}" in result.stderr
    with session(db, read_only=True) as con:
        langs = dict(con.execute("SELECT lang, count(*) FROM documents GROUP BY 1").fetchall())
        last = con.execute("SELECT max(period) FROM processed_periods").fetchall()[0][0]
        flagged = con.execute(
            "SELECT e.topic_id, e.direction, list(dt.doc_id) FROM v_emerging e "
            "JOIN doc_topics dt USING (topic_id, period) "
            "GROUP BY ALL"
        ).fetchall()
    assert langs["en"] > 2000 and langs["zh"] > 50
    assert last == "2017-Q1"  # the 2020 feed items are read and dropped as after the sample
    assert len({direction for _, direction, _ in flagged} - {"unmapped"}) >= 4
    hints = {
        row["id"]: row["direction_hint"]
        for row in csv.DictReader((FIXTURES / "demo_selection_hints.csv").open(encoding="utf-8"))
    }
    agree = 0
    for _, direction, docs in flagged:
        votes = Counter(hints[doc] for doc in docs if doc in hints)
        agree += bool(votes) and votes.most_common(1)[0][0] == direction
    assert agree >= len(flagged) / 2, flagged
    text = html.read_text(encoding="utf-8")
    assert "<script src=" not in text and "covid" not in text.lower()


def test_weekly_flow_with_every_source_down_still_processes_and_names_them(tmp_path, small_corpus):
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[source]]\nid = "gone"\nspider = "rss"\n'
        'urls = ["http://no-such-host.invalid/feed.xml"]\n',
        "utf-8",
    )
    overrides = {
        "reports_dir": str(tmp_path / "out"),
        "encoder": "hashing-256",
        "granularity": "month",
        "sources_file": str(sources),
    }
    result = weekly_flow(str(tmp_path / "w.duckdb"), files=[str(small_corpus)], overrides=overrides)
    assert result.crawl is not None and result.crawl.all_failed and result.failed
    assert result.processed is not None and result.processed.periods
    lines = result.summary_lines()
    assert lines[0].endswith("1 sources (1 failing), 0 documents stored")
    assert "every source failed: gone" in lines
    assert result.report is not None


def test_demo_refuses_a_database_with_other_documents(tmp_path, small_corpus):
    db = tmp_path / "mine.duckdb"
    assert CliRunner().invoke(app, ["ingest", str(small_corpus), "--db", str(db)]).exit_code == 0
    result = CliRunner().invoke(app, ["demo", "--db", str(db)])
    assert result.exit_code == 2
    assert "not the demo's" in result.stderr and "--db demo.duckdb" in result.stderr
    with session(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM documents").fetchall()[0][0] == 804
