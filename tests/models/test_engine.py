"""The engine on a real DuckDB file with the hashing encoder: ids, determinism, safety."""

import json
import shutil

import pytest

from models.embed import HashingEncoder
from models.engine import EngineParams
from models.process import pending_periods, process_period
from models.runner import build_context, process_pending
from models.taxonomy import load_taxonomy
from pipeline.db import session
from pipeline.ingest import ingest_file
from pipeline.periods import Period

PARAMS = EngineParams(granularity="month")


def ingested(tmp_path, corpus, name="db.duckdb"):
    path = tmp_path / name
    with session(path) as con:
        ingest_file(con, corpus)
    return path


def snapshot(path):
    with session(path, read_only=True) as con:
        return (
            con.execute(
                "SELECT topic_id, born_period, label, keywords FROM topics ORDER BY topic_id"
            ).fetchall(),
            con.execute(
                "SELECT topic_id, period, n_docs, share, growth, popularity, "
                "high_potential, signal_class, reasons FROM topic_periods "
                "ORDER BY topic_id, period"
            ).fetchall(),
            con.execute("SELECT doc_id, topic_id FROM doc_topics ORDER BY doc_id").fetchall(),
            con.execute("SELECT * FROM topic_lineage ORDER BY ALL").fetchall(),
        )


def test_two_copies_give_identical_topics(tmp_path, small_corpus, mini_taxonomy):
    first = ingested(tmp_path, small_corpus, "a.duckdb")
    second = tmp_path / "b.duckdb"
    shutil.copy(first, second)
    for path in (first, second):
        run = process_pending(path, PARAMS, HashingEncoder(), mini_taxonomy)
        assert [p.period for p in run.periods] == [
            "2019-11",
            "2019-12",
            "2020-01",
            "2020-02",
            "2020-03",
        ]
    assert snapshot(first) == snapshot(second)
    topics = snapshot(first)[0]
    assert topics and all("/" in topic_id for topic_id, *_ in topics)


def test_processing_twice_adds_nothing(tmp_path, small_corpus, mini_taxonomy):
    path = ingested(tmp_path, small_corpus)
    process_pending(path, PARAMS, HashingEncoder(), mini_taxonomy)
    before = snapshot(path)
    again = process_pending(path, PARAMS, HashingEncoder(), mini_taxonomy)
    assert again.periods == () and snapshot(path) == before


def test_a_period_killed_half_way_leaves_no_trace(
    tmp_path, small_corpus, mini_taxonomy, monkeypatch
):
    path = ingested(tmp_path, small_corpus)
    clean = tmp_path / "clean.duckdb"
    shutil.copy(path, clean)
    process_pending(clean, PARAMS, HashingEncoder(), mini_taxonomy)

    ctx = build_context(HashingEncoder(), PARAMS, mini_taxonomy, "run-x")
    process_period(path, Period.parse("2019-11"), PARAMS, ctx)
    import pipeline.topic_store as topic_store

    def explode(con, write):
        con.execute("DELETE FROM topics")  # partial work inside the transaction
        raise KeyboardInterrupt

    monkeypatch.setattr("models.process.write_period", explode)
    with pytest.raises(KeyboardInterrupt):
        process_period(path, Period.parse("2019-12"), PARAMS, ctx)
    monkeypatch.setattr("models.process.write_period", topic_store.write_period)
    assert str(pending_periods(path, "month")[0]) == "2019-12"
    process_pending(path, PARAMS, HashingEncoder(), mini_taxonomy)
    assert snapshot(path)[:3] == snapshot(clean)[:3]


def test_a_period_never_sees_later_documents(tmp_path, small_corpus, mini_taxonomy):
    path = ingested(tmp_path, small_corpus)
    process_pending(path, PARAMS, HashingEncoder(), mini_taxonomy)
    with session(path, read_only=True) as con:
        leaks = con.execute(
            "SELECT count(*) FROM doc_topics dt JOIN documents d USING (doc_id) "
            "WHERE strftime(d.published, '%Y-%m') <> dt.period"
        ).fetchall()[0][0]
        runs = con.execute(
            "SELECT status, model, code_version, parameters->>'$.engine.granularity' FROM runs"
        ).fetchall()
    assert leaks == 0
    assert runs[0][0] == "completed" and runs[0][1] == "hashing-256" and runs[0][2]
    assert runs[0][3] == "month"


def test_views_answer_for_analysts(tmp_path, small_corpus, mini_taxonomy):
    path = ingested(tmp_path, small_corpus)
    process_pending(path, PARAMS, HashingEncoder(), mini_taxonomy)
    with session(path, read_only=True) as con:
        emerging = con.execute("SELECT period, direction FROM v_emerging").fetchall()
        timeline = con.execute("SELECT count(*) FROM v_topic_timeline").fetchall()[0][0]
    assert {period for period, _ in emerging} <= {"2020-03"}
    assert timeline > 0


def test_processing_fills_the_directions_table_from_the_taxonomy(
    tmp_path, small_corpus, mini_taxonomy
):
    # The table analysts join for direction and track names (docs/analysts.md): one row per
    # track, per direction and for "unmapped", written the first time the taxonomy is used.
    path = ingested(tmp_path, small_corpus)
    process_pending(path, PARAMS, HashingEncoder(), mini_taxonomy)
    taxonomy = load_taxonomy(mini_taxonomy)
    with session(path, read_only=True) as con:
        rows = con.execute(
            "SELECT taxonomy_version, kind, count(*) FROM directions GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    counts = {kind: n for _, kind, n in rows}
    assert {version for version, _, _ in rows} == {taxonomy.version}
    assert counts.pop("direction") == len(taxonomy.directions)
    assert sum(counts.values()) == len(taxonomy.tracks) + 1  # the tracks and "unmapped"


def test_an_empty_period_between_two_others_is_processed(tmp_path, mini_taxonomy):
    lines = [
        {
            "id": f"d{i}",
            "source": "s",
            "kind": "news",
            "date": date,
            "title": f"battery {i}",
            "text": "solid-state battery electrolyte",
            "lang": "en",
        }
        for i, date in enumerate(["2024-01-05", "2024-01-06", "2024-03-05", "2024-03-09"])
    ]
    corpus = tmp_path / "gap.jsonl"
    corpus.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    path = ingested(tmp_path, corpus)
    run = process_pending(path, PARAMS, HashingEncoder(), mini_taxonomy)
    assert [(p.period, p.n_docs) for p in run.periods] == [
        ("2024-01", 2),
        ("2024-02", 0),
        ("2024-03", 2),
    ]
