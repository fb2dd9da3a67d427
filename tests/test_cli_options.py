"""The CLI's listing formats, --version, a busy database for `watch remove`, progress bars."""

import csv
import io
import json
import subprocess
import sys
import textwrap

import numpy as np
from rich.console import Console
from typer.testing import CliRunner

import pipeline.db
from crawlers.sources import load_sources
from models.embed import build_encoder
from observatory.cli import app
from observatory.progress import CountingEncoder, progress_bar
from pipeline.db import session

runner = CliRunner()
HOLDER = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("ready", flush=True)
    time.sleep(60)
""")


def invoke(*args):
    return runner.invoke(app, [str(arg) for arg in args], catch_exceptions=False)


def test_runs_as_table_json_and_csv(tmp_path):
    db = tmp_path / "r.duckdb"
    with session(db) as con:
        con.execute(
            "INSERT INTO runs (run_id, kind, started, finished, status, counts) VALUES "
            "('process-1', 'process', TIMESTAMP '2026-12-01 10:00:00', "
            "TIMESTAMP '2026-12-01 10:00:30', 'completed', '{\"periods\": 3}')"
        )
    table = invoke("runs", "--db", db)
    assert table.exit_code == 0 and "process-1" in table.stdout and "periods=3" in table.stdout
    rows = [
        json.loads(line) for line in invoke("runs", "-f", "json", "--db", db).stdout.splitlines()
    ]
    assert rows == [
        {
            "run_id": "process-1",
            "kind": "process",
            "status": "completed",
            "started": "2026-12-01T10:00:00",
            "finished": "2026-12-01T10:00:30",
            "seconds": 30.0,
            "model": None,
            "counts": {"periods": 3},
            "error": None,
        }
    ]
    lines = list(csv.DictReader(io.StringIO(invoke("runs", "--format", "csv", "--db", db).stdout)))
    assert lines[0]["run_id"] == "process-1" and lines[0]["seconds"] == "30.0"
    assert json.loads(lines[0]["counts"]) == {"periods": 3}


def test_sources_as_json_and_csv(tmp_path):
    configured = load_sources()
    result = invoke("sources", "--format", "json", "--db", tmp_path / "none.duckdb")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["source_id"] for row in rows] == [source.id for source in configured]
    assert {row["health"] for row in rows} == {"never crawled"}
    as_csv = list(csv.DictReader(io.StringIO(invoke("sources", "-f", "csv").stdout)))
    assert len(as_csv) == len(configured) and as_csv[0]["spider"] == configured[0].spider


def test_watch_list_formats(tmp_path):
    db = tmp_path / "w.duckdb"
    watch_id = invoke("watch", "add", "solid-state batteries", "--db", db).stdout.strip()
    rows = [
        json.loads(line)
        for line in invoke("watch", "list", "-f", "json", "--db", db).stdout.splitlines()
    ]
    assert rows == [
        {
            "watch_id": watch_id,
            "phrase": "solid-state batteries",
            "threshold": 0.35,
            "period": None,
            "n_docs": None,
            "signal_class": None,
            "high_potential": None,
        }
    ]
    as_csv = invoke("watch", "list", "--format", "csv", "--db", db).stdout.splitlines()
    assert as_csv[0].startswith("watch_id,phrase,threshold") and watch_id in as_csv[1]


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.startswith("observatory 0.1.0")


def test_watch_remove_on_a_busy_database_is_one_line(tmp_path, monkeypatch):
    db = tmp_path / "busy.duckdb"
    invoke("watch", "add", "solid-state batteries", "--db", db)
    monkeypatch.setattr(pipeline.db, "LOCK_WAIT_SECONDS", 0.2)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = runner.invoke(app, ["watch", "remove", "solid-state batteries", "--db", str(db)])
        assert result.exit_code == 1, result.output
        assert "another process is writing to this database" in result.stderr
        assert "Traceback" not in result.output and result.exception is not None
        assert len(result.stderr.strip().splitlines()) == 1
    finally:
        holder.terminate()
        holder.wait(timeout=10)


def test_progress_shows_at_a_terminal_only_and_counts_embedded_texts():
    assert progress_bar(Console(file=io.StringIO())).disable  # not a terminal: quiet
    screen = io.StringIO()
    with progress_bar(Console(file=screen, force_terminal=True, width=80)) as bar:
        task = bar.add_task("embedding (texts)", total=None)
        encoder = CountingEncoder(build_encoder("hashing-256"), lambda n: bar.advance(task, n))
        vectors = encoder.encode(["a text", "another text", "a third"])
        assert bar.tasks[0].completed == 3
    assert vectors.shape == (3, 256) and encoder.name == "hashing-256"
    assert np.allclose(
        vectors, build_encoder("hashing-256").encode(["a text", "another text", "a third"])
    )
    assert "embedding (texts)" in screen.getvalue()
