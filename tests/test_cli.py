"""The CLI through typer's CliRunner: messages, exit codes, idempotence."""

import json

import pytest
from typer.testing import CliRunner

from observatory.cli import app
from pipeline.db import session

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(arg) for arg in args], catch_exceptions=False)


def counts(db):
    with session(db, read_only=True) as con:
        return con.execute("SELECT count(*) FROM documents").fetchall()[0][0]


def test_every_command_has_help():
    for command in app.registered_commands:
        assert command.callback.__doc__, command.name
    assert invoke("--help").exit_code == 0


def test_ingest_twice_leaves_counts_unchanged(tmp_path, small_corpus):
    db = tmp_path / "c.duckdb"
    first = invoke("ingest", small_corpus, "--db", db)
    assert first.exit_code == 0 and "804 added" in first.stderr
    second = invoke("ingest", small_corpus, "--db", db)
    assert "0 added, 804 already stored" in second.stderr
    assert counts(db) == 804


def test_a_bad_line_exits_2_naming_the_line_and_stores_nothing(tmp_path, small_corpus):
    lines = small_corpus.read_text(encoding="utf-8").splitlines()
    broken = json.loads(lines[6])
    broken["date"] = "2020-02-30"
    lines[6] = json.dumps(broken)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "c.duckdb"
    result = invoke("ingest", bad, "--db", db)
    assert result.exit_code == 2
    assert f"{bad}:7: field 'date': expected YYYY-MM-DD, got '2020-02-30'" in result.stderr
    assert "Traceback" not in result.output
    assert counts(db) == 0
    skipped = invoke("ingest", bad, "--db", db, "--skip-bad")
    assert skipped.exit_code == 0 and "1 skipped" in skipped.stderr and counts(db) == 803


def test_missing_file_is_a_clear_error(tmp_path):
    result = invoke("ingest", tmp_path / "nope.jsonl")
    assert result.exit_code == 2 and "nope.jsonl: no such file" in result.stderr


def test_process_uses_db_from_the_environment(tmp_path, small_corpus, mini_taxonomy, monkeypatch):
    db = tmp_path / "env.duckdb"
    monkeypatch.setenv("OBSERVATORY_DB", str(db))
    invoke("ingest", small_corpus)
    result = invoke(
        "process", "-g", "month", "--encoder", "hashing-256", "--taxonomy", mini_taxonomy
    )
    assert result.exit_code == 0, result.output
    assert "5 periods processed (month)" in result.stderr
    again = invoke("process", "--encoder", "hashing-256", "--taxonomy", mini_taxonomy)
    assert "0 periods processed (month)" in again.stderr  # the database's granularity
    assert invoke("runs").exit_code == 0
    report = invoke("report", "--out", tmp_path / "r")
    assert report.exit_code == 0, report.output
    assert report.stdout.strip().endswith("report-month-2020-03.html")
    older = invoke("report", "--period", "2020-01", "--out", tmp_path / "r")
    assert older.stdout.strip().endswith("report-month-2020-01.html")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["process", "-g", "fortnight"], "granularity: expected one of day, week"),
        (["report", "--period", "May"], "period: expected 2024-05-06"),
        (["crawl", "--spider", "rss"], "give --spider and --url together"),
    ],
)
def test_bad_arguments_are_one_line_errors(args, message):
    result = invoke(*args)
    assert result.exit_code != 0 and message in result.stderr
    assert "Traceback" not in result.output


def test_watch_add_list_remove(tmp_path):
    db = tmp_path / "w.duckdb"
    added = invoke("watch", "add", "solid-state batteries", "--db", db)
    assert added.exit_code == 0 and added.stdout.strip().startswith("w-")
    listed = invoke("watch", "list", "--db", db)
    assert "solid-state" in listed.stdout
    assert invoke("watch", "remove", "solid-state batteries", "--db", db).exit_code == 0
    missing = invoke("watch", "remove", "nothing", "--db", db)
    assert missing.exit_code == 1 and "no watch 'nothing'" in missing.stderr
