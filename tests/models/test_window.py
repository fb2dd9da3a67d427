"""Trailing-window clustering of thin periods: finer topics, and the period's own documents."""

import json
import random
from dataclasses import replace
from datetime import date

import numpy as np

from models.embed import HashingEncoder
from models.engine import EngineParams
from models.parallel import Inline, ParallelOptions, process_pending_parallel
from models.runner import process_pending
from models.window import WindowParams, period_part, window_start
from pipeline.db import session
from pipeline.ingest import ingest_file
from pipeline.periods import Period

THEMES = [
    "quantum qubit entanglement photon superconducting cryogenic coherence gate",
    "battery lithium anode cathode electrolyte charging solid-state cell",
    "robot humanoid gripper actuator locomotion balance servo manipulation",
    "satellite orbit launch rocket payload constellation booster spacecraft",
]
WEEKS = ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"]  # Mondays
OFF = EngineParams(granularity="week")
ON = replace(OFF, window=WindowParams(periods=4, below_docs=300, min_period_docs=3))


def thin_corpus(path):
    """Four weeks, three documents per theme per week: too few for a cluster in one week."""
    rng, lines = random.Random(3), []
    for w, monday in enumerate(WEEKS):
        for t, words in enumerate(THEMES):
            for i in range(3):
                picked = rng.sample(words.split(), 5)
                lines.append(
                    {
                        "id": f"w{w}t{t}d{i}",
                        "source": "digest",
                        "kind": "news",
                        "date": monday,
                        "title": " ".join(picked[:2]),
                        "text": " ".join(picked),
                        "lang": "en",
                    }
                )
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def processed(tmp_path, params, name, taxonomy, parallel=False):
    db = tmp_path / name
    with session(db) as con:
        ingest_file(con, thin_corpus(tmp_path / "thin.jsonl"))
    if parallel:
        process_pending_parallel(
            db,
            params,
            HashingEncoder(),
            Inline(HashingEncoder()),
            taxonomy,
            ParallelOptions(window_docs=20),
        )
    else:
        process_pending(db, params, HashingEncoder(), taxonomy)
    with session(db, read_only=True) as con:
        return con.execute(
            "SELECT period, doc_id, topic_id FROM doc_topics ORDER BY period, doc_id"
        ).fetchall()


def last_week_topics(rows):
    topics: dict[str, set[str]] = {}
    for period, doc_id, topic in rows:
        if period == "2024-W04" and topic is not None:
            topics.setdefault(topic, set()).add(doc_id[2:4])  # the theme: "t0".."t3"
    return topics


def test_a_thin_week_gets_one_topic_per_theme_only_with_the_window(tmp_path, mini_taxonomy):
    alone = last_week_topics(processed(tmp_path, OFF, "off.duckdb", mini_taxonomy))
    windowed = processed(tmp_path, ON, "on.duckdb", mini_taxonomy)
    topics = last_week_topics(windowed)
    assert len(alone) < len(THEMES)  # twelve documents: HDBSCAN cannot separate four themes
    assert len(topics) == len(THEMES) and all(len(themes) == 1 for themes in topics.values())
    # every period labels exactly its own documents
    per_period: dict[str, int] = {}
    for period, _, _ in windowed:
        per_period[period] = per_period.get(period, 0) + 1
    assert per_period == {"2024-W01": 12, "2024-W02": 12, "2024-W03": 12, "2024-W04": 12}


def test_workers_see_the_same_window_as_one_process(tmp_path, mini_taxonomy):
    one = processed(tmp_path, ON, "one.duckdb", mini_taxonomy)
    spread = processed(tmp_path, ON, "spread.duckdb", mini_taxonomy, parallel=True)
    assert one == spread


def test_clusters_with_too_few_of_the_periods_documents_become_outliers():
    labels = np.array([0, 0, 1, 1, 1, 0, 1, 1, 2])  # three context rows, then the period
    strength = np.linspace(0.1, 0.9, len(labels))
    mine, power = period_part(labels, strength, n_context=3, min_period_docs=2)
    # the period holds four documents of cluster 1, one of cluster 0 and one of 2
    assert mine.tolist() == [1, 1, -1, 1, 1, -1]
    assert power.tolist() == [*strength[3:5], 0.0, *strength[6:8], 0.0]


def test_the_window_starts_periods_back_at_any_granularity():
    assert window_start(Period.parse("2024-W04"), 4) == date(2024, 1, 1)
    assert window_start(Period.parse("2024-03"), 3) == date(2024, 1, 1)
    assert window_start(Period.parse("2024-Q1"), 2) == date(2023, 10, 1)
    assert window_start(Period.parse("2024-03"), 1) == date(2024, 3, 1)
    assert not WindowParams().applies(10)  # off by default
    assert WindowParams(periods=2, below_docs=100).applies(99)
    assert not WindowParams(periods=2, below_docs=100).applies(100)
