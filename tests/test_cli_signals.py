"""`observatory signals`: one ranked list per period, as a table, JSON lines or CSV."""

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from observatory.cli import app

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(arg) for arg in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("signals") / "observatory.duckdb"
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


def test_signals_as_json_csv_and_table(db):
    as_json = invoke("signals", "--db", db, "-g", "month", "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    rows = [json.loads(line) for line in as_json.stdout.splitlines() if line.startswith("{")]
    assert rows and [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert {r["period"] for r in rows} == {"2020-03"}  # the latest period by default
    assert all(r["reasons"] or r["signal_class"] == "noise" for r in rows)
    as_csv = invoke("signals", "--db", db, "--period", "2020-02", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert table and {r["period"] for r in table} == {"2020-02"}
    assert invoke("signals", "--db", db, "-g", "month").exit_code == 0


def test_signals_filters_by_direction_and_refuses_unknown_ones(db):
    ok = invoke("signals", "--db", db, "-g", "month", "--direction", "unmapped", "-f", "json")
    assert ok.exit_code == 0
    assert all(
        json.loads(line)["direction"] == "unmapped"
        for line in ok.stdout.splitlines()
        if line.startswith("{")
    )
    bad = invoke("signals", "--db", db, "-g", "month", "--direction", "nowhere")
    assert bad.exit_code != 0 and "--direction" in bad.output


def test_signals_before_processing_says_what_to_do(tmp_path):
    result = invoke("signals", "--db", tmp_path / "empty.duckdb")
    assert result.exit_code != 0 and "process" in result.output
