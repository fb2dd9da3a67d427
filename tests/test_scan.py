"""`observatory scan`: query syntax per API, a replayed scan, and failing fast offline."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import duckdb
import pytest
import typer
from typer.testing import CliRunner

from crawlers.replay import ReplayServer, serve
from observatory.scan import parse_since, scan, scan_sources
from observatory.scan_cli import scan_command
from observatory.settings import Settings
from pipeline.errors import InputError

RECORDED = Path(__file__).parent / "fixtures" / "crawlers"
TODAY = date(2026, 1, 15)


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, ReplayServer]]:
    with ExitStack() as stack:
        yield {
            name: stack.enter_context(serve(RECORDED / name))
            for name in ("arxiv", "openalex", "patentsview", "google_news", "gdelt")
        }


def _base_urls(servers: dict[str, ReplayServer]) -> dict[str, str]:
    """Each scan source pointed at a recording that answers whatever its query is."""
    news = servers["google_news"]
    return {
        "scan-arxiv": servers["arxiv"].url("api/query"),
        "scan-openalex": servers["openalex"].url("full/works"),
        "scan-patentsview": servers["patentsview"].url("full/api/v1/patent/"),
        "scan-gnews-en": news.url("search_en-US_old_style_decodable_token_2023_CONSTRUCTED.xml"),
        "scan-gnews-zh": news.url("search_zh-CN_memory_chips_CONSTRUCTED_with_real_items.xml"),
        "scan-gdelt": servers["gdelt"].url(
            "paging/window2_20240108120000-20240109000000_last.json"
        ),
    }


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_phrase_is_written_in_each_api_query_syntax() -> None:
    sources = {
        s.config.id: s
        for s in scan_sources("solid-state batteries", date(2024, 1, 15), ["en", "zh"], TODAY)
    }
    assert set(sources) == {
        "scan-arxiv",
        "scan-openalex",
        "scan-patentsview",
        "scan-epo",
        "scan-gdelt",
        "scan-gnews-en",
        "scan-gnews-zh",
    }
    assert sources["scan-arxiv"].config.queries == ['all:"solid-state batteries"']
    assert sources["scan-openalex"].config.queries == [
        'title_and_abstract.search:"solid-state batteries"'
    ]
    assert sources["scan-epo"].config.queries == ['ta="solid-state batteries"']
    assert sources["scan-gdelt"].config.queries == ['"solid-state batteries"']
    assert json.loads(sources["scan-patentsview"].config.queries[0])["_or"][1] == {
        "_text_phrase": {"patent_abstract": "solid-state batteries"}
    }
    assert sources["scan-gnews-zh"].config.params == {
        "hl": "zh-CN",
        "gl": "CN",
        "ceid": "CN:zh-Hans",
    }
    assert sources["scan-gdelt"].since == date(2025, 10, 17)  # GDELT searches three months
    assert sources["scan-arxiv"].since == date(2024, 1, 15)


def test_since_takes_spans_and_dates() -> None:
    assert parse_since("2y", TODAY) == date(2024, 1, 16)
    assert parse_since("30d", TODAY) == date(2025, 12, 16)
    assert parse_since("2024-03-01", TODAY) == date(2024, 3, 1)
    with pytest.raises(InputError, match="--since"):
        parse_since("soon", TODAY)


def test_a_replayed_scan_writes_the_focused_report(
    servers: dict[str, ReplayServer], tmp_path: Path
) -> None:
    settings = Settings(
        db=tmp_path / "scan.duckdb",
        reports_dir=tmp_path / "reports",
        encoder="hashing-256",
        patentsview_api_key="test-key",
    )
    lines: list[str] = []
    result = scan(
        "solid-state batteries",
        settings,
        date(2015, 1, 1),
        ["en", "zh"],
        _base_urls(servers),
        "year",
        polite=False,
        notify=lines.append,
    )

    assert result.skipped == (
        "scan-epo: skipped, needs OBSERVATORY_EPO_OPS_KEY and OBSERVATORY_EPO_OPS_SECRET",
    )
    assert result.items_stored > 0 and result.n_periods > 0
    markdown = result.report.markdown.read_text("utf-8")
    for heading in (
        "# Focus: solid-state batteries",
        "## Volume over time",
        "## Watch scores",
        "## Topics around it",
        "## Evidence",
    ):
        assert heading in markdown
    html = result.report.html.read_text("utf-8")
    assert 'id="volume"' in html and "<svg" in html and "<script" not in html
    report = json.loads(result.report.json.read_text("utf-8"))
    assert set(report["kinds"]) == {"paper", "patent", "news"}
    assert report["n_documents"] == sum(row["total"] for row in report["volume"])
    assert all(doc["matched_by"] for doc in report["evidence"])
    with duckdb.connect(str(settings.db), read_only=True) as con:
        assert con.execute("SELECT phrase FROM watchlist").fetchall() == [
            ("solid-state batteries",)
        ]


def test_offline_the_scan_fails_fast_with_one_line_per_source(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{_closed_port()}/"
    ids = ["scan-arxiv", "scan-openalex", "scan-gdelt", "scan-gnews-en", "scan-gnews-zh"]
    app = typer.Typer()
    app.command()(scan_command)
    args = ["solid-state batteries", "--db", str(tmp_path / "x.duckdb"), "--out", str(tmp_path)]
    args += [arg for source_id in ids for arg in ("--base-url", f"{source_id}={dead}")]
    started = time.monotonic()
    result = CliRunner().invoke(app, args)

    assert time.monotonic() - started < 15
    assert result.exit_code != 0
    lines = result.output.splitlines()
    for source_id in ids:
        assert sum(line.startswith(f"{source_id}: cannot reach 127.0.0.1") for line in lines) == 1
    assert any("no scan source is reachable" in line for line in lines)
    assert "Traceback" not in result.output
    assert not list(tmp_path.glob("focus-*"))


def test_a_scan_leaves_the_weekly_scores_unchanged(
    servers: dict[str, ReplayServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from models.embed import HashingEncoder
    from models.engine import EngineParams
    from models.runner import process_pending
    from pipeline.db import session
    from pipeline.ingest import ingest_file

    weekly = tmp_path / "observatory.duckdb"
    monkeypatch.setenv("OBSERVATORY_DB", str(weekly))
    with session(weekly) as con:
        ingest_file(con, Path(__file__).parent / "fixtures" / "huffpost_2020q1.jsonl")
    params = EngineParams(granularity="year")
    process_pending(weekly, params, HashingEncoder(), "v1")
    scores = (
        "SELECT topic_id, period, n_docs, share, growth, high_potential, signal_class "
        "FROM topic_periods ORDER BY ALL"
    )
    with duckdb.connect(str(weekly), read_only=True) as con:
        before = con.execute(scores).fetchall()
        documents = con.execute("SELECT count(*) FROM documents").fetchall()
    app = typer.Typer()
    app.command()(scan_command)
    args = [
        "solid-state batteries",
        "-g",
        "year",
        "--encoder",
        "hashing-256",
        "--impolite",
        "--since",
        "2015-01-01",
        "--out",
        str(tmp_path / "reports"),
    ]
    args += [
        arg
        for source, url in _base_urls(servers).items()
        for arg in ("--base-url", f"{source}={url}")
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "observatory.scans.duckdb" in result.output
    assert process_pending(weekly, params, HashingEncoder(), "v1").periods == ()
    with duckdb.connect(str(weekly), read_only=True) as con:
        assert con.execute(scores).fetchall() == before
        assert con.execute("SELECT count(*) FROM documents").fetchall() == documents
    with duckdb.connect(str(tmp_path / "observatory.scans.duckdb"), read_only=True) as con:
        assert (
            con.execute("SELECT count(*) FROM documents WHERE source LIKE 'scan-%'").fetchall()[0][
                0
            ]
            > 0
        )
