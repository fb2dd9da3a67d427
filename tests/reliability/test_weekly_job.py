"""The weekly job in the real world: open periods wait, late documents, one encoder per history.

Real DuckDB files, the real clusterer, the hashing encoder; the fixture corpus runs from
2019-11 to 2020-03, processed by month.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fault_injection import differences, duplicated_documents, store_fingerprint

from models.embed import HashingEncoder
from models.engine import EngineParams
from models.runner import process_pending
from pipeline.db import session
from pipeline.errors import ObservatoryError
from pipeline.ingest import ingest_file
from reports.write import write_report

PARAMS = EngineParams(granularity="month")
MID_MARCH = datetime(2020, 3, 18, 9, 0, tzinfo=UTC)
LATER = datetime(2020, 4, 3, tzinfo=UTC)


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(lines), encoding="utf-8")
    return path


def split_corpus(corpus: Path, tmp_path: Path, late: str) -> tuple[Path, Path]:
    """The corpus without every third document of month `late`, and those documents."""
    lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
    held = [
        line
        for i, line in enumerate(lines)
        if json.loads(line)["date"].startswith(late) and i % 3 == 0
    ]
    early = [line for line in lines if line not in held]
    return write_lines(tmp_path / "early.jsonl", early), write_lines(tmp_path / "late.jsonl", held)


def ingest(db: Path, *files: Path) -> None:
    for path in files:
        with session(db) as con:
            ingest_file(con, path)


def run(db: Path, taxonomy: str, **kwargs: object):
    return process_pending(db, PARAMS, HashingEncoder(), taxonomy, **kwargs)


def untopiced(db: Path) -> int:
    with session(db, read_only=True) as con:
        return int(
            con.execute(
                "SELECT count(*) FROM documents WHERE doc_id NOT IN "
                "(SELECT doc_id FROM doc_topics WHERE granularity = 'month')"
            ).fetchall()[0][0]
        )


def test_the_open_month_waits_and_gets_its_late_documents_once_closed(
    tmp_path, small_corpus, mini_taxonomy
):
    early, late = split_corpus(small_corpus, tmp_path, "2020-03")
    db = tmp_path / "db.duckdb"
    ingest(db, early)
    first = run(db, mini_taxonomy, now=MID_MARCH)
    assert [p.period for p in first.periods] == ["2019-11", "2019-12", "2020-01", "2020-02"]
    assert list(first.waiting) == ["2020-03"] and first.waiting["2020-03"] > 0
    ingest(db, late)
    assert run(db, mini_taxonomy, now=datetime(2020, 4, 1, 12, tzinfo=UTC)).periods == ()
    closed = run(db, mini_taxonomy, now=LATER)
    assert [p.period for p in closed.periods] == ["2020-03"] and closed.periods[0].n_docs == 162
    assert untopiced(db) == 0


def test_late_documents_reprocess_their_period_and_every_later_one_like_a_fresh_run(
    tmp_path, small_corpus, mini_taxonomy
):
    early, late = split_corpus(small_corpus, tmp_path, "2020-01")
    db, fresh = tmp_path / "db.duckdb", tmp_path / "fresh.duckdb"
    ingest(db, early)
    run(db, mini_taxonomy, now=LATER)
    ingest(db, late)
    again = run(db, mini_taxonomy, now=LATER)
    assert again.reprocessed == ("2020-01", "2020-02", "2020-03")
    assert again.stale == {"2020-01": (103, 154)}
    ingest(fresh, small_corpus)
    run(fresh, mini_taxonomy, now=LATER)
    assert differences(store_fingerprint(db), store_fingerprint(fresh)) == []
    assert duplicated_documents(db) == 0 and untopiced(db) == 0
    with session(db, read_only=True) as con:
        reasons = con.execute(
            "SELECT period, reason FROM period_revisions ORDER BY period"
        ).fetchall()
        counts = json.loads(
            con.execute("SELECT counts FROM runs WHERE run_id = ?", [again.run_id]).fetchall()[0][0]
        )
    assert reasons == [
        ("2020-01", "late documents"),
        ("2020-02", "follows 2020-01"),
        ("2020-03", "follows 2020-01"),
    ]
    assert counts["reprocessed"] == 3
    report = write_report(db, tmp_path / "reports", "month")
    assert (
        "Processed again by that run, because documents arrived late: 2020-01: late "
        "documents, 103 → 154 documents; 2020-02: follows 2020-01"
    ) in report.markdown.read_text(encoding="utf-8")


def test_forced_reprocessing_changes_nothing(tmp_path, small_corpus, mini_taxonomy):
    db = tmp_path / "db.duckdb"
    ingest(db, small_corpus)
    run(db, mini_taxonomy, now=LATER)
    before = store_fingerprint(db)
    again = run(db, mini_taxonomy, now=LATER, reprocess_from="2019-12")
    assert again.reprocessed == ("2019-12", "2020-01", "2020-02", "2020-03")
    assert differences(store_fingerprint(db), before) == []


def test_a_month_processed_before_it_closed_is_taken_back(tmp_path, small_corpus, mini_taxonomy):
    early, late = split_corpus(small_corpus, tmp_path, "2020-03")
    db = tmp_path / "db.duckdb"
    ingest(db, early)
    run(db, mini_taxonomy, now=LATER)  # as the old code did: March processed in March
    back = run(db, mini_taxonomy, now=MID_MARCH)
    assert back.periods == () and "2020-03" in back.waiting and "2020-03" in back.stale
    ingest(db, late)
    assert [p.n_docs for p in run(db, mini_taxonomy, now=LATER).periods] == [162]


def test_another_encoder_stops_with_both_names_and_rebuild_starts_over(
    tmp_path, small_corpus, mini_taxonomy
):
    db = tmp_path / "db.duckdb"
    ingest(db, small_corpus)
    run(db, mini_taxonomy, now=LATER)
    kept = store_fingerprint(db)
    with pytest.raises(ObservatoryError) as error:
        process_pending(db, PARAMS, HashingEncoder(128), mini_taxonomy, now=LATER)
    message = str(error.value)
    assert "hashing-256 (256 dimensions)" in message and "hashing-128 (128)" in message
    assert "--rebuild" in message
    assert differences(store_fingerprint(db), kept) == []
    rebuilt = process_pending(
        db, PARAMS, HashingEncoder(128), mini_taxonomy, now=LATER, rebuild=True
    )
    assert rebuilt.rebuilt == 5 and len(rebuilt.periods) == 5
    with session(db, read_only=True) as con:
        models = con.execute(
            "SELECT model, count(*) FROM embeddings GROUP BY model ORDER BY model"
        ).fetchall()
        histories = con.execute("SELECT granularity, encoder, dim FROM topic_histories").fetchall()
    assert models == [("hashing-128", 804), ("hashing-256", 804)]
    assert histories == [("month", "hashing-128", 128)]


def test_a_copy_processed_in_two_steps_equals_one_run(tmp_path, small_corpus, mini_taxonomy):
    db, other = tmp_path / "db.duckdb", tmp_path / "other.duckdb"
    ingest(db, small_corpus)
    shutil.copy(db, other)
    run(db, mini_taxonomy, now=LATER)
    run(other, mini_taxonomy, now=datetime(2020, 2, 2, tzinfo=UTC))
    run(other, mini_taxonomy, now=LATER)
    assert differences(store_fingerprint(other), store_fingerprint(db)) == []
