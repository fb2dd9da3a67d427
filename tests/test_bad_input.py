"""Bad input, one test each: a one-line message naming the file, line or value, exit code, no
traceback (the table in docs/reliability.md lists the same cases)."""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from observatory.cli import app
from pipeline.db import session

runner = CliRunner()
GOOD = {
    "id": "n:1",
    "source": "s",
    "kind": "news",
    "date": "2024-05-06",
    "title": "Solid-state battery pilot line",
    "text": "Une cellule à électrolyte solide.",
    "lang": "en",
}


def invoke(*args: object) -> Result:
    result = runner.invoke(app, [str(arg) for arg in args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def lines(path: Path, records: list[dict[str, object] | str], encoding: str = "utf-8") -> Path:
    text = (
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records)
        + "\n"
    )
    path.write_bytes(text.encode(encoding))
    return path


def record(n: int, **fields: object) -> dict[str, object]:
    return {**GOOD, "id": f"n:{n}", **fields}


def stored(db: Path) -> int:
    with session(db, read_only=True) as con:
        return int(con.execute("SELECT count(*) FROM documents").fetchall()[0][0])


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "o.duckdb"


def test_a_bad_json_line_names_file_and_line(tmp_path: Path, db: Path) -> None:
    bad = lines(tmp_path / "bad.jsonl", [record(1), '{"id": broken', record(3)])
    result = invoke("ingest", bad, "--db", db)
    assert result.exit_code == 2
    assert f"{bad}:2: not valid JSON (Expecting value)" in result.stderr
    assert stored(db) == 0


def test_a_bad_file_stops_only_itself_and_the_summary_lists_each(tmp_path: Path, db: Path) -> None:
    bad = lines(tmp_path / "bad.jsonl", [record(1), '{"id": broken'])
    good = lines(tmp_path / "good.jsonl", [record(5), record(6)])
    result = invoke("ingest", bad, good, "--db", db)
    assert result.exit_code == 2
    assert f"{good}: 2 read, 2 added" in result.stderr
    assert f"1 of 2 files imported; not imported: {bad}" in result.stderr
    assert stored(db) == 2


@pytest.mark.parametrize(("encoding", "byte"), [("gbk", "0xd6"), ("latin-1", "0xe8")])
def test_a_non_utf8_file_names_line_and_byte(
    tmp_path: Path, db: Path, encoding: str, byte: str
) -> None:
    title = "中文标题" if encoding == "gbk" else "Première"
    path = lines(tmp_path / "other.jsonl", [record(1, title=title, text="x")], encoding)
    result = invoke("ingest", path, "--db", db)
    assert result.exit_code == 2
    assert f"{path}:1: not UTF-8 (byte {byte} at column" in result.stderr
    assert "iconv -f GBK -t UTF-8" in result.stderr and "LATIN1" in result.stderr
    skipped = invoke("ingest", path, "--db", db, "--skip-bad")
    assert skipped.exit_code == 0 and "skipped 1 x not UTF-8" in skipped.stderr


def test_a_truncated_gzip_stores_nothing_from_it(tmp_path: Path, db: Path) -> None:
    whole = gzip.compress("\n".join(json.dumps(record(n)) for n in range(400)).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    result = invoke("ingest", path, "--db", db)
    assert result.exit_code == 2
    assert f"{path}: the gzip stream is cut off after line" in result.stderr
    assert "nothing from this file was stored" in result.stderr
    assert stored(db) == 0


def test_a_gz_file_that_is_not_gzip(tmp_path: Path, db: Path) -> None:
    path = lines(tmp_path / "plain.jsonl.gz", [record(1)])
    result = invoke("ingest", path, "--db", db)
    assert result.exit_code == 2
    assert f"{path}: not gzip-compressed, though its name ends in .gz" in result.stderr


def test_a_10_mb_document_is_a_bad_line(tmp_path: Path, db: Path) -> None:
    path = lines(tmp_path / "big.jsonl", [record(1), record(2, text="x" * 10_485_760)])
    result = invoke("ingest", path, "--db", db)
    assert result.exit_code == 2
    assert (
        f"{path}:2: field 'text': expected at most 1,000,000 characters, "
        "got '10,485,760 characters'"
    ) in result.stderr


def test_a_future_date_is_refused_or_counted(tmp_path: Path, db: Path) -> None:
    ahead = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    path = lines(tmp_path / "f.jsonl", [record(1, date=tomorrow), record(2, date=ahead)])
    result = invoke("ingest", path, "--db", db)
    assert result.exit_code == 2
    assert f"{path}:2: field 'date': {ahead} is in the future (latest accepted:" in result.stderr
    skipped = invoke("ingest", path, "--db", db, "--skip-bad")
    assert skipped.exit_code == 0
    assert "skipped 1 x field 'date': in the future" in skipped.stderr
    assert stored(db) == 1


def test_an_empty_file_imports_nothing(tmp_path: Path, db: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    result = invoke("ingest", path, "--db", db)
    assert result.exit_code == 0 and f"{path}: 0 read, 0 added" in result.stderr


def test_a_folder_given_as_a_file(tmp_path: Path, db: Path) -> None:
    result = invoke("ingest", tmp_path, "--db", db)
    assert result.exit_code == 2 and f"{tmp_path}: is a folder" in result.stderr


def test_an_empty_period_has_no_report(db: Path, tmp_path: Path) -> None:
    lines(tmp_path / "g.jsonl", [record(1)])
    invoke("ingest", tmp_path / "g.jsonl", "--db", db)
    result = invoke("report", "--period", "2019-W01", "--db", db, "--out", tmp_path / "r")
    assert result.exit_code == 1 and "no week period has been processed yet" in result.stderr


@pytest.mark.parametrize("label", ["2020-13", "2020-02-30", "2021-W53"])
@pytest.mark.parametrize("command", ["report", "topics"])
def test_impossible_period_labels(tmp_path: Path, db: Path, label: str, command: str) -> None:
    invoke("ingest", lines(tmp_path / "g.jsonl", [record(1)]), "--db", db)
    result = invoke(command, "--period", label, "--db", db)
    assert result.exit_code == 2
    assert f"period: no such period {label!r}" in result.stderr


@pytest.mark.parametrize("cron", ["61 * * * *", "every monday"])
def test_a_bad_cron(db: Path, cron: str) -> None:
    result = invoke("schedule", "--cron", cron, "--db", db)
    assert result.exit_code == 2
    assert f"--cron: {cron!r} is not a cron expression" in result.stderr


COMMANDS = [
    ["topics"],
    ["topic", "2024-W19/01"],
    ["report"],
    ["runs"],
    ["sources"],
    ["sql", "SELECT count(*) FROM documents"],
    ["ingest", "GOOD"],
    ["process", "-g", "month", "--encoder", "hashing-256"],
]


@pytest.fixture(scope="module")
def damaged_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real database whose blocks after the header are overwritten: checksums fail."""
    folder = tmp_path_factory.mktemp("damaged")
    path = folder / "real.duckdb"
    lines(folder / "g.jsonl", [record(n) for n in range(50)])
    assert invoke("ingest", folder / "g.jsonl", "--db", path).exit_code == 0
    with path.open("r+b") as handle:
        handle.seek(4096)
        handle.write(b"\xab" * 8192)
    return path


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_a_damaged_database(tmp_path: Path, damaged_db: Path, args: list[str]) -> None:
    copy = tmp_path / "damaged.duckdb"
    shutil.copy(damaged_db, copy)
    lines(tmp_path / "g.jsonl", [record(1)])
    argv = [str(tmp_path / "g.jsonl") if a == "GOOD" else a for a in args]
    result = invoke(*argv, "--db", copy)
    assert result.exit_code == 1, result.output
    assert f"{copy}: the database file is damaged or not a DuckDB file" in result.stderr


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_not_a_duckdb_file(tmp_path: Path, args: list[str]) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_text("these are my notes, not a database\n" * 200)
    lines(tmp_path / "g.jsonl", [record(1)])
    argv = [str(tmp_path / "g.jsonl") if a == "GOOD" else a for a in args]
    result = invoke(*argv, "--db", path)
    assert result.exit_code == 1
    assert f"{path}: the database file is damaged or not a DuckDB file" in result.stderr


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_db_is_a_folder(tmp_path: Path, args: list[str]) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    lines(tmp_path / "g.jsonl", [record(1)])
    argv = [str(tmp_path / "g.jsonl") if a == "GOOD" else a for a in args]
    result = invoke(*argv, "--db", folder)
    assert result.exit_code == 1
    assert f"{folder}: is a folder; --db expects a DuckDB file" in result.stderr


def test_processing_an_empty_database_processes_nothing(db: Path) -> None:
    result = invoke("process", "-g", "week", "--encoder", "hashing-256", "--db", db)
    assert result.exit_code == 0 and "0 periods processed (week)" in result.stderr


@pytest.mark.parametrize("encoder", ["st:paraphrase-multilingual-MiniLM-L12-v2", "minilm-offline"])
def test_a_sentence_transformers_encoder_without_the_st_extra(
    db: Path, encoder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on a default install, which leaves torch and sentence-transformers out.
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    result = invoke("process", "-g", "week", "--encoder", encoder, "--db", db)
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert f"encoder {encoder!r} needs sentence-transformers and torch" in message
    assert (
        "install the [st] extra: pip install torch==2.13.0 && pip install -c constraints.txt "
        '-e ".[st]"' in message
    )
