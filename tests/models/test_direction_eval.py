import json
from pathlib import Path

import numpy as np
import pytest

from models.direction_eval import (
    LABELS,
    GridPoint,
    LabelledDoc,
    best_setting,
    calibrate,
    evaluate_mapper,
    load_sample,
    main,
    score_predictions,
)
from models.directions import TrackVectors
from models.taxonomy import DIRECTION_IDS, Taxonomy, Track
from pipeline.errors import InputError

SAMPLE = Path(__file__).parents[2] / "data" / "direction_sample" / "sample.jsonl"
DIM = 8


def _track(direction: str) -> Track:
    return Track(
        id=f"{direction}.only",
        direction=direction,
        kind="subtrack",
        name_en=direction,
        name_zh=direction,
        description_en=direction,
        description_zh=direction,
        terms_en=(),
        terms_zh=(),
    )


@pytest.fixture
def axis_tracks() -> TrackVectors:
    """One track per direction, each on its own axis; axes 6 and 7 belong to no direction."""
    taxonomy = Taxonomy(
        "test", {d: (d, d) for d in DIRECTION_IDS}, tuple(_track(d) for d in DIRECTION_IDS)
    )
    return TrackVectors(taxonomy, np.eye(DIM, dtype=np.float32)[: len(DIRECTION_IDS)])


def _doc(label: str, number: int = 0) -> LabelledDoc:
    return LabelledDoc(id=f"d{number}", source="test", lang="en", title="t", text="x", label=label)


def _vector(weights: dict[int, float]) -> np.ndarray:
    row = np.zeros(DIM, dtype=np.float32)
    for axis, weight in weights.items():
        row[axis] = weight
    return row / np.linalg.norm(row)


def test_scores_on_a_hand_counted_example():
    gold = ["energy", "energy", "space", "none", "none"]
    predicted = ["energy", "none", "space", "none", "space"]
    scores = score_predictions(gold, predicted)
    assert scores.accuracy == pytest.approx(3 / 5)
    by_label = {s.label: s for s in scores.per_label}
    assert (by_label["energy"].precision, by_label["energy"].recall) == (1.0, 0.5)
    assert (by_label["space"].precision, by_label["space"].recall) == (0.5, 1.0)
    assert by_label["none"].f1 == pytest.approx(0.5)
    assert by_label["health"].f1 == 0.0 and by_label["health"].support == 0
    f1s = [2 / 3, 2 / 3, 0.5]
    assert scores.macro_f1 == pytest.approx(sum(f1s) / len(LABELS))
    energy, none = LABELS.index("energy"), LABELS.index("none")
    assert scores.confusion[energy][none] == 1
    assert sum(map(sum, scores.confusion)) == 5


def test_scores_reject_mismatched_lists():
    with pytest.raises(InputError):
        score_predictions(["energy"], [])


def test_unmapped_counts_as_none_and_threshold_matters(axis_tracks):
    sample = [_doc("energy", 0), _doc("space", 1), _doc("none", 2)]
    vectors = np.stack([_vector({3: 1.0}), _vector({4: 1.0}), _vector({6: 1.0, 0: 0.3})])
    strict = evaluate_mapper(sample, vectors, axis_tracks, threshold=0.5, margin=0.0)
    assert strict.accuracy == 1.0 and strict.macro_f1 == pytest.approx(3 / len(LABELS))
    loose = evaluate_mapper(sample, vectors, axis_tracks, threshold=0.0, margin=0.0)
    manufacturing, none = LABELS.index("manufacturing"), LABELS.index("none")
    assert loose.confusion[none][manufacturing] == 1 and loose.accuracy == pytest.approx(2 / 3)


def test_margin_sends_a_tie_to_none(axis_tracks):
    sample = [_doc("none")]
    vectors = np.stack([_vector({0: 1.0, 1: 1.0})])
    assert evaluate_mapper(sample, vectors, axis_tracks, 0.5, 0.0).accuracy == 0.0
    assert evaluate_mapper(sample, vectors, axis_tracks, 0.5, 0.01).accuracy == 1.0


def test_calibrate_covers_the_grid_and_finds_the_separating_setting(axis_tracks):
    sample = [_doc("energy", 0), _doc("health", 1), _doc("none", 2), _doc("none", 3)]
    vectors = np.stack(
        [
            _vector({3: 1.0, 2: 0.2}),
            _vector({5: 1.0}),
            _vector({6: 1.0, 1: 0.5}),
            _vector({0: 1.0, 2: 1.0}),
        ]
    )
    grid = calibrate(sample, vectors, axis_tracks, thresholds=(0.1, 0.6, 0.99), margins=(0.0, 0.05))
    assert [(p.threshold, p.margin) for p in grid] == [
        (0.1, 0.0),
        (0.1, 0.05),
        (0.6, 0.0),
        (0.6, 0.05),
        (0.99, 0.0),
        (0.99, 0.05),
    ]
    best = best_setting(grid)
    assert (best.threshold, best.margin, best.accuracy) == (0.6, 0.05, 1.0)


def test_best_setting_breaks_ties_by_accuracy_then_grid_order():
    grid = [
        GridPoint(0.1, 0.0, 0.5, 0.4),
        GridPoint(0.2, 0.0, 0.6, 0.4),
        GridPoint(0.3, 0.0, 0.6, 0.4),
    ]
    assert best_setting(grid).threshold == 0.2


def test_evaluate_rejects_misaligned_vectors(axis_tracks):
    with pytest.raises(InputError, match="2 documents but 1 vectors"):
        evaluate_mapper(
            [_doc("none"), _doc("none")], np.zeros((1, DIM), np.float32), axis_tracks, 0.25, 0.02
        )


def test_load_sample_round_trip_and_errors(tmp_path):
    path = tmp_path / "sample.jsonl"
    row = {
        "id": "a",
        "source": "s",
        "lang": "zh",
        "title": "电池",
        "text": "储能",
        "label": "energy",
    }
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n\n", encoding="utf-8")
    [doc] = load_sample(path)
    assert doc.full_text == "电池\n储能" and doc.note == ""
    path.write_text(json.dumps({**row, "label": "unmapped"}) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="field 'label'"):
        load_sample(path)
    with pytest.raises(InputError, match="no such file"):
        load_sample(tmp_path / "missing.jsonl")


def test_shipped_sample_covers_every_label_and_both_languages():
    sample = load_sample(SAMPLE)
    assert len(sample) >= 300
    assert len({doc.id for doc in sample}) == len(sample)
    assert {doc.label for doc in sample} == set(LABELS)
    assert {doc.lang for doc in sample} == {"en", "zh"}
    assert all(len(doc.text) <= 1000 for doc in sample)


def test_main_runs_end_to_end_with_a_hashing_encoder(capsys):
    main(["--sample", str(SAMPLE), "--encoder", "hashing-64"])
    out = capsys.readouterr().out
    assert "best: threshold=" in out
    assert out.count("accuracy=") == 3


def test_demo_topic_check_scores_topics_by_their_documents_majority_hint(tmp_path):
    from models.direction_eval import demo_topic_check
    from pipeline.db import session

    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "demo_candidates_selection_hints.csv").write_text(
        "id,lang,direction_hint,technology_hint\na,en,energy,x\nb,en,energy,x\nc,en,materials,x\n"
        "d,zh,cross-cutting S&T,x\ne,en,materials,x\n",
        encoding="utf-8",
    )
    db = tmp_path / "db.duckdb"
    with session(db) as con:
        for doc, topic in (("a", "t1"), ("b", "t1"), ("c", "t1"), ("d", "t2"), ("e", "t3")):
            con.execute(
                "INSERT INTO doc_topics VALUES (?, 'quarter', '2017-Q1', ?, 1.0)", [doc, topic]
            )
        con.execute(
            "INSERT INTO topic_directions VALUES ('t1', '2017-Q1', 'v', 'energy', "
            "NULL, 0.3, 0.6, TRUE), ('t3', '2017-Q1', 'v', 'unmapped', NULL, 0.1, "
            "0.7, TRUE)"
        )
    scores = demo_topic_check(db, tmp_path)
    assert scores.n_docs == 2  # t2 has no direction hint
    energy, none = LABELS.index("energy"), LABELS.index("none")
    assert scores.confusion[energy][energy] == 1
    assert scores.confusion[LABELS.index("materials")][none] == 1
