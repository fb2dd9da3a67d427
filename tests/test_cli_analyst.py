"""Analyst commands through typer's CliRunner: sql, topics, topic, export, schedule."""

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from observatory.cli import app

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()

HOLDER = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("CREATE TABLE IF NOT EXISTS analyst_probe (x INTEGER)")
    con.execute("INSERT INTO analyst_probe VALUES (42)")
    print("ready", flush=True)
    time.sleep(60)
""")


def invoke(*args):
    return runner.invoke(app, [str(arg) for arg in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("analyst") / "observatory.duckdb"
    assert invoke("ingest", FIXTURES / "huffpost_2020q1.jsonl", "--db", path).exit_code == 0
    result = invoke(
        "process",
        "--db",
        path,
        "--encoder",
        "hashing-256",
        "--taxonomy",
        FIXTURES / "mini_taxonomy.toml",
        "-g",
        "month",
    )
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def writer(db):
    """A second process that holds the write lock on the database until the test ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield holder
    finally:
        holder.terminate()
        holder.wait(timeout=10)


def test_sql_csv_and_json_are_fit_for_pipes(db):
    query = "SELECT period, n_docs FROM processed_periods ORDER BY period"
    as_csv = invoke("sql", query, "--format", "csv", "--db", db)
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [row["period"] for row in rows] == [
        "2019-11",
        "2019-12",
        "2020-01",
        "2020-02",
        "2020-03",
    ]
    assert sum(int(row["n_docs"]) for row in rows) == 804
    assert "5 rows" in as_csv.stderr and "5 rows" not in as_csv.stdout
    as_json = invoke(
        "sql",
        "SELECT topic_id, keywords, period_start FROM topics "
        "JOIN processed_periods ON born_period = period LIMIT 3",
        "-f",
        "json",
        "--db",
        db,
    )
    objects = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert len(objects) == 3 and isinstance(objects[0]["keywords"], list)
    assert objects[0]["period_start"].count("-") == 2


def test_sql_table_format_prints_a_table(db):
    result = invoke("sql", "SELECT direction, n_topics FROM v_direction_summary", "--db", db)
    assert result.exit_code == 0 and "direction" in result.stdout and "unmapped" in result.stdout


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO runs (run_id, kind, started, status) VALUES ('x', 'y', now(), 'ok')",
        "UPDATE topics SET label = 'x'",
        "DELETE FROM documents",
        "CREATE TABLE t AS SELECT 1",
        "CREATE TEMP TABLE t AS SELECT 1",
        "DROP VIEW v_emerging",
        "ALTER TABLE topics ADD COLUMN x INTEGER",
        "COPY topics TO 'topics.csv'",
        "ATTACH 'other.duckdb'",
        "PRAGMA threads = 1",
        "SET enable_external_access = true",
        "CHECKPOINT",
        "INSTALL httpfs",
        "EXPLAIN ANALYZE DELETE FROM documents",
        "SELECT 1; DELETE FROM documents",
    ],
)
def test_sql_refuses_writes(db, statement):
    result = invoke("sql", statement, "--db", db)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: sql: ") and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_sql_cannot_touch_other_files_and_reports_bad_sql(db, tmp_path):
    outside = invoke("sql", f"SELECT * FROM read_csv('{db.parent}/x.csv')", "--db", db)
    assert outside.exit_code == 2 and "disabled by configuration" in outside.stderr
    missing = invoke("sql", "SELECT * FROM nowhere", "--db", db)
    assert missing.exit_code == 2 and "nowhere does not exist" in missing.stderr
    no_db = invoke("sql", "SELECT 1", "--db", tmp_path / "none.duckdb")
    assert no_db.exit_code == 1 and "no such database" in no_db.stderr


def test_readers_use_the_published_snapshot_while_another_process_writes(db, writer):
    with pytest.raises(duckdb.IOException, match="lock"):
        duckdb.connect(str(db), read_only=True)
    snapshot = db.with_name("observatory.read.duckdb")
    published = snapshot.stat().st_mtime - 60  # as if the writer had been at it a minute
    os.utime(snapshot, (published, published))
    result = invoke(
        "sql",
        "SELECT count(*) AS n FROM processed_periods",
        "-f",
        "csv",
        "--wait",
        "0.2",
        "--db",
        db,
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["n", "5"]
    assert "answered from its read snapshot of" in result.stderr
    unpublished = invoke("sql", "SELECT x FROM analyst_probe", "--db", db)
    assert unpublished.exit_code == 2 and "analyst_probe does not exist" in unpublished.stderr
    refused = invoke("sql", "DELETE FROM topics", "--wait", "0.2", "--db", db)
    assert refused.exit_code == 2 and "refused a DELETE statement" in refused.stderr
    topics = invoke("topics", "--status", "strong", "-f", "json", "--wait", "0.2", "--db", db)
    assert topics.exit_code == 0 and topics.stdout.strip()
    assert writer.poll() is None


def test_a_database_without_a_snapshot_is_read_directly_or_refused_while_busy(db, tmp_path):
    legacy = tmp_path / "legacy.duckdb"
    shutil.copy(db, legacy)
    answer = invoke("sql", "SELECT count(*) FROM topics", "-f", "csv", "--db", legacy)
    assert answer.exit_code == 0 and int(answer.stdout.splitlines()[1]) > 0
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(legacy)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        busy = invoke("sql", "SELECT 1", "--wait", "0.2", "--db", legacy)
        assert busy.exit_code == 1 and "no read snapshot exists yet" in busy.stderr
    finally:
        holder.terminate()
        holder.wait(timeout=10)


def test_topics_lists_the_latest_period_with_filters(db):
    result = invoke("topics", "--format", "json", "--db", db)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and {row["period"] for row in rows} == {"2020-03"}
    scores = [row["high_potential"] for row in rows]
    assert scores == sorted(scores, reverse=True)
    assert "topics in 2020-03 (month)" in result.stderr
    new = invoke("topics", "--status", "new", "--period", "2019-12", "-f", "json", "--db", db)
    new_rows = [json.loads(line) for line in new.stdout.splitlines()]
    assert new_rows and all(row["born_period"] == "2019-12" for row in new_rows)
    emerging = invoke(
        "topics",
        "--status",
        "emerging",
        "--direction",
        "unmapped",
        "-f",
        "json",
        "--limit",
        "1",
        "--db",
        db,
    )
    emerging_rows = [json.loads(line) for line in emerging.stdout.splitlines()]
    assert len(emerging_rows) == 1 and emerging_rows[0]["signal_class"] in {"weak", "strong"}
    assert invoke("topics", "--db", db).exit_code == 0


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--direction", "underwater"], 2, "--direction: unknown direction 'underwater'"),
        (["--period", "March"], 2, "period: expected 2024-05-06"),
        (["-g", "week"], 1, "no week periods processed yet"),
        (["--status", "hot"], 2, "hot"),
    ],
)
def test_topics_bad_arguments_are_clear(db, args, code, message):
    result = invoke("topics", *args, "--db", db)
    assert result.exit_code == code and message in result.stderr
    assert "Traceback" not in result.output


def test_topic_shows_lineage_scores_directions_and_evidence(db):
    result = invoke("topic", "2019-11/01", "--format", "json", "--evidence", "3", "--db", db)
    assert result.exit_code == 0, result.output
    detail = json.loads(result.stdout)
    assert detail["topic"]["born_period"] == "2019-11" and detail["topic"]["keywords"]
    events = {(row["topic_id"], row["event"]) for row in detail["lineage"]}
    assert ("2019-11/01", "born") in events
    assert any(topic_id != "2019-11/01" for topic_id, _ in events)
    assert [score["period"] for score in detail["scores"]] == sorted(
        score["period"] for score in detail["scores"]
    )
    # a period where nothing fired (noise, no growth) legitimately has no reasons
    assert any(score["reasons"] for score in detail["scores"])
    assert (
        abs(sum(row["weight"] for row in detail["directions"] if not row["is_primary"]) - 1) < 1e-3
    )
    assert len(detail["evidence"]) == 3
    assert {"title", "source", "published", "url"} <= set(detail["evidence"][0])
    table = invoke("topic", "2019-11/01", "--db", db)
    assert table.exit_code == 0
    for section in ("scores by period", "lineage", "directions in", "evidence"):
        assert section in table.stdout


def test_unknown_topic_is_one_line(db):
    result = invoke("topic", "2030-01/99", "--db", db)
    assert result.exit_code == 1 and "no topic '2030-01/99'" in result.stderr


@pytest.mark.parametrize("export_format", ["parquet", "csv"])
def test_export_writes_one_file_per_table(db, tmp_path, export_format):
    out = tmp_path / "export"
    result = invoke("export", "--format", export_format, "--out", out, "--db", db)
    assert result.exit_code == 0, result.output
    written = result.stdout.splitlines()
    assert f"{out}/documents.{export_format}" in written and len(written) == 11
    reader = "read_parquet" if export_format == "parquet" else "read_csv"
    with duckdb.connect() as con:
        count = con.execute(f"SELECT count(*) FROM {reader}('{out}/documents.{export_format}')")
        assert count.fetchall()[0][0] == 804


def test_export_names_unknown_tables(db, tmp_path):
    result = invoke("export", "--out", tmp_path, "--table", "nope", "--db", db)
    assert result.exit_code == 2 and "--table: no table 'nope'" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cron", "0 6 * * MONDAY"], "--cron: '0 6 * * MONDAY' is not a cron expression"),
        (["--cron", "61 6 * * MON"], "is not a cron expression"),
        (["--cron", "0 6 * * MON", "--timezone", "Mars/Olympus"], "unknown time zone"),
    ],
)
def test_schedule_rejects_a_bad_cron(args, message):
    result = invoke("schedule", *args)
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.output
