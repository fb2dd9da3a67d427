"""Real Prefect flows under a temporary Prefect server."""

import pytest
from typer.testing import CliRunner

from flows.weekly import weekly_flow
from observatory.cli import app
from observatory.settings import Settings
from pipeline.db import session


@pytest.fixture(scope="module", autouse=True)
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def test_weekly_flow_ingests_processes_and_reports(tmp_path, small_corpus):
    settings = Settings(db=tmp_path / "w.duckdb", reports_dir=tmp_path / "out",
                        encoder="hashing-256", granularity="month")
    overrides = {"reports_dir": str(settings.reports_dir), "encoder": "hashing-256",
                 "granularity": "month"}
    result = weekly_flow(str(settings.db), files=[str(small_corpus)], crawl=False,
                         overrides=overrides)
    assert result.ingested[0].added == 804
    assert [p.period for p in result.processed.periods][-1] == "2020-03"
    assert result.report is not None and result.report.html.exists()
    with session(settings.db, read_only=True) as con:
        kinds = con.execute("SELECT kind, status FROM runs").fetchall()
    assert ("process", "completed") in kinds


@pytest.mark.slow
def test_demo_runs_offline_end_to_end(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--db", str(tmp_path / "demo.duckdb"),
                                      "--out", str(tmp_path / "reports")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    html = tmp_path / "reports" / "report-month-2020-12.html"
    assert result.stdout.strip() == str(html)
    assert "feed items crawled" in result.stderr
    with session(tmp_path / "demo.duckdb", read_only=True) as con:
        langs = dict(con.execute("SELECT lang, count(*) FROM documents GROUP BY 1").fetchall())
        flagged = con.execute("SELECT count(*) FROM v_emerging").fetchall()[0][0]
    assert langs["en"] > 3000 and langs.get("zh", 0) > 0
    assert flagged > 0
    text = html.read_text(encoding="utf-8")
    assert "<script src=" not in text and "covid" in text.lower()


def test_weekly_flow_with_every_source_down_still_processes_and_names_them(tmp_path,
                                                                           small_corpus):
    sources = tmp_path / "sources.toml"
    sources.write_text('[[source]]\nid = "gone"\nspider = "rss"\n'
                       'urls = ["http://no-such-host.invalid/feed.xml"]\n', "utf-8")
    overrides = {"reports_dir": str(tmp_path / "out"), "encoder": "hashing-256",
                 "granularity": "month", "sources_file": str(sources)}
    result = weekly_flow(str(tmp_path / "w.duckdb"), files=[str(small_corpus)],
                         overrides=overrides)
    assert result.crawl is not None and result.crawl.all_failed and result.failed
    assert result.processed is not None and result.processed.periods
    lines = result.summary_lines()
    assert lines[0].endswith("1 sources (1 failing), 0 documents stored")
    assert "every source failed: gone" in lines
    assert result.report is not None
