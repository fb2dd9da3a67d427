"""The direction classifier, the topic mapping built on it, the labelled set's rules and names."""

import json

import numpy as np
import pytest
from direction_helpers import one_track_taxonomy

from models.direction_data import (
    HAND_SAMPLE,
    LABELS_FILE,
    Rule,
    _matches,
    load_codes,
    split_of,
)
from models.direction_model import (
    CLASSES,
    NONE,
    DirectionClassifier,
    choose_none_bias,
    fit,
    load_classifier,
    predict_labels,
)
from models.directions import UNMAPPED, TrackVectors, map_direction, term_counts
from models.taxonomy import DIRECTION_IDS, load_taxonomy
from pipeline.db import session
from pipeline.errors import InputError
from pipeline.topic_store import store_taxonomy

DIM = 10


def _axis(i: int, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    row = np.random.default_rng(seed).normal(0, noise, DIM).astype(np.float32)
    row[i] += 1.0
    return row / np.linalg.norm(row)


@pytest.fixture
def trained() -> tuple[TrackVectors, DirectionClassifier]:
    """Direction i lives on axis i, "none" on axes 6-9; the classifier learns that."""
    taxonomy = one_track_taxonomy()
    track_vectors = np.eye(DIM, dtype=np.float32)[: len(DIRECTION_IDS)]
    rows, labels = [], []
    for seed in range(40):
        for i, label in enumerate(DIRECTION_IDS):
            rows.append(_axis(i, 0.2, seed * 10 + i))
            labels.append(label)
        rows.append(_axis(6 + seed % 4, 0.2, 1000 + seed))
        labels.append(NONE)
    model = fit(np.stack(rows), labels, 1.0, track_vectors, "test-encoder", taxonomy.version, {})
    return TrackVectors(taxonomy, track_vectors, model), model


def test_classifier_learns_directions_and_none(trained):
    _, model = trained
    predicted = predict_labels(model, np.stack([_axis(3), _axis(5), _axis(8)]))
    assert predicted == ["energy", "health", NONE]
    assert np.allclose(model.probabilities(_axis(0)[None, :]).sum(axis=1), 1.0)


def test_artefact_round_trip_is_json_and_checks_its_encoder(trained, tmp_path):
    tracks, model = trained
    path = tmp_path / "model.json"
    path.write_text(model.to_json(), encoding="utf-8")
    assert json.loads(path.read_text())["classes"] == list(CLASSES)
    loaded = load_classifier("test-encoder", tracks.taxonomy, tracks.vectors, path)
    assert loaded is not None
    probe = np.stack([_axis(1, 0.3, 7), _axis(7, 0.3, 8)])
    assert np.allclose(loaded.probabilities(probe), model.probabilities(probe), atol=1e-4)
    assert load_classifier("other-encoder", tracks.taxonomy, tracks.vectors, path) is None
    with pytest.raises(InputError, match="coef"):
        load_classifier("test-encoder", tracks.taxonomy, tracks.vectors[:3], path)


def test_topic_direction_is_the_mean_of_its_documents(trained):
    tracks, _ = trained
    robots = [_axis(0, 0.1, s) for s in range(30)]
    batteries = [_axis(3, 0.1, 100 + s) for s in range(3)]
    members = np.stack(robots + batteries)
    centroid = members.mean(axis=0)
    match = map_direction(centroid, tracks, 0.99, 0.5, members=members)
    assert match.direction == "manufacturing" and match.track == "manufacturing.only"
    assert 0.02 < match.distribution["energy"] < match.distribution["manufacturing"]
    assert sum(match.distribution.values()) + match.none_weight == pytest.approx(1.0, abs=1e-5)


def test_unmapped_only_when_none_wins_the_argmax(trained):
    tracks, _ = trained
    off_topic = np.stack([_axis(6 + s % 4, 0.1, s) for s in range(20)])
    match = map_direction(off_topic.mean(axis=0), tracks, 0.0, 0.0, members=off_topic)
    assert match.direction == UNMAPPED and match.track is None
    assert match.none_weight > max(match.distribution.values())
    # A topic with more health than none stays health, whatever the zero-shot threshold.
    mixed = np.stack([*(_axis(5, 0.1, s) for s in range(12)), *off_topic[:8]])
    assert map_direction(mixed.mean(axis=0), tracks, 0.99, 0.5, members=mixed).direction == "health"


def test_term_evidence_names_terms_in_both_languages(trained):
    tracks, _ = trained
    texts = [
        "new energy-term results",
        "关于energy词的报道",
        "nothing here",
        "energy-term and energy词",
    ]
    counts = term_counts(texts, tracks.taxonomy)
    energy = DIRECTION_IDS.index("energy")
    assert counts[energy] == {"energy-term": 2, "energy词": 2}
    members = np.stack([_axis(3, 0.1, s) for s in range(4)])
    match = map_direction(members.mean(axis=0), tracks, 0.0, 0.0, members=members, texts=texts)
    assert match.evidence == (
        "energy track (energy赛道): mentions energy-term in 2 and energy词 in 2 of 4 documents",
    )


def test_zero_shot_fallback_without_a_classifier():
    taxonomy = one_track_taxonomy()
    tracks = TrackVectors(taxonomy, np.eye(DIM, dtype=np.float32)[: len(DIRECTION_IDS)])
    match = map_direction(_axis(4), tracks, threshold=0.5, margin=0.0)
    assert match.direction == "space"
    assert match.none_weight == pytest.approx(1 - max(match.distribution.values()), abs=1e-6)
    assert map_direction(_axis(8), tracks, 0.5, 0.0).direction == UNMAPPED


def test_none_bias_is_chosen_to_keep_off_topic_unmapped(trained):
    _, model = trained
    vectors = np.stack(
        [_axis(6 + s % 4, 0.5, s) for s in range(20)]
        + [_axis(s % 6, 0.5, 50 + s) for s in range(20)]
    )
    gold = [NONE] * 20 + [DIRECTION_IDS[s % 6] for s in range(20)]
    bias = choose_none_bias(model, vectors, gold)
    chosen = DirectionClassifier(**{**model.__dict__, "none_bias": bias})
    predicted = predict_labels(chosen, vectors)
    assert sum(p == NONE for p in predicted[:20]) >= 19


def test_code_table_loads_and_rules_match_as_documented(tmp_path):
    table = load_codes()
    assert table.version and {rule.direction for rule in table.rules} == set(CLASSES)
    robotics = next(rule for rule in table.rules if rule.id == "venue-robotics")
    row = {"source": "paperlists", "meta": {"venue_key": "icra"}}
    assert _matches(robotics, row, "Legged robot gaits", "")
    assert not _matches(robotics, {**row, "meta": {"venue_key": "nips"}}, "Legged robot", "")
    cpc = next(rule for rule in table.rules if rule.kind == "cpc")
    assert _matches(cpc, {"meta": {"cpc": ["C12N15/86"]}}, "t", "")
    assert not _matches(cpc, {"meta": {"cpc": ["B01D46/00"]}}, "t", "")
    bad = tmp_path / "codes.toml"
    bad.write_text('[[rule]]\nid="x"\nkind="venue"\nsource="huffpost"\ndirection="sport"\n')
    with pytest.raises(InputError, match="field 'direction'"):
        load_codes(bad)


def test_term_rule_on_text_field():
    rule = Rule(
        "r",
        "term",
        "ruanyf_weekly",
        "materials",
        pattern=__import__("re").compile("石墨烯"),
        field="text",
    )
    assert _matches(rule, {"venue": "科技动态"}, "新闻", "新闻\n石墨烯电池")


def test_splits_are_fixed_and_the_hand_sample_is_never_in_the_labelled_set():
    assert split_of("paperlists:icra2005:1") == split_of("paperlists:icra2005:1")
    shares = [split_of(f"doc-{i}") for i in range(2000)]
    assert 0.65 < shares.count("train") / 2000 < 0.75
    lines = LABELS_FILE.read_text(encoding="utf-8").splitlines()
    labelled = {json.loads(line)["id"] for line in lines[1:]}
    sample = {json.loads(line)["id"] for line in HAND_SAMPLE.read_text("utf-8").splitlines()}
    assert len(labelled) > 5000 and not labelled & sample
    assert not any(doc_id.startswith("arxiv:") for doc_id in labelled)  # the demo's corpus


def test_directions_table_holds_names_and_views_show_them(tmp_path):
    taxonomy = load_taxonomy("v1")
    with session(tmp_path / "db.duckdb") as con:
        assert store_taxonomy(con, taxonomy.rows()) == len(taxonomy.tracks) + 7
        assert store_taxonomy(con, taxonomy.rows()) == 0
        con.execute(
            "INSERT INTO topic_directions VALUES ('t1', '2020-01', ?, 'energy', "
            "'energy.hydrogen', 0.4, 0.8, TRUE)",
            [taxonomy.version],
        )
        row = con.execute(
            "SELECT direction_name_en, track_name_en, track_name_zh FROM v_topic_directions"
        ).fetchall()[0]
    hydrogen = next(t for t in taxonomy.tracks if t.id == "energy.hydrogen")
    assert row == (taxonomy.directions["energy"][0], hydrogen.name_en, hydrogen.name_zh)


def test_shipped_artefact_fits_the_shipped_taxonomy_and_labels():
    """A taxonomy edit or a relabelling without retraining would silently drop the classifier
    (zero-shot fallback); this catches it."""
    import hashlib

    from models.direction_model import artefact_path

    taxonomy = load_taxonomy("v1")
    path = artefact_path("use-multilingual-v3")
    vectors = np.zeros((len(taxonomy.tracks), 512), np.float32)
    model = load_classifier("use-multilingual-v3", taxonomy, vectors, path)
    assert model is not None, "retrain: python -m models.direction_model"
    assert model.meta["labels_sha256"] == hashlib.sha256(LABELS_FILE.read_bytes()).hexdigest()


def test_term_bonus_moves_a_document_towards_the_direction_it_names(trained):
    from models.directions import direction_mentions

    tracks, model = trained
    between = (_axis(2) + _axis(3)) / np.linalg.norm(_axis(2) + _axis(3))  # materials | energy
    texts = ["about energy-term storage"]
    mentions = direction_mentions(texts, tracks.taxonomy)
    assert mentions.tolist() == [[d == "energy" for d in DIRECTION_IDS]]
    boosted = DirectionClassifier(**{**model.__dict__, "term_bonus": 0.5})
    assert predict_labels(boosted, between[None, :], mentions) == ["energy"]
    plain = model.probabilities(between[None, :])
    assert np.allclose(model.probabilities(between[None, :], mentions), plain)  # bonus 0
    members = np.stack([between] * 3)
    match = map_direction(
        between,
        TrackVectors(tracks.taxonomy, tracks.vectors, boosted),
        0.0,
        0.0,
        members=members,
        texts=texts * 3,
    )
    assert match.direction == "energy"


def test_mention_flags_are_features_and_survive_the_json_round_trip(tmp_path):
    from models.direction_model import artefact_path
    from models.direction_select import sample_weights

    taxonomy = one_track_taxonomy()
    track_vectors = np.eye(DIM, dtype=np.float32)[: len(DIRECTION_IDS)]
    rows, labels, mentions = [], [], []
    for seed in range(30):
        for i, label in enumerate(DIRECTION_IDS):
            rows.append(_axis(i, 0.6, seed * 10 + i))  # noisy vectors: the flags carry weight
            labels.append(label)
            mentions.append([j == i for j in range(len(DIRECTION_IDS))])
        rows.append(_axis(6 + seed % 4, 0.6, 1000 + seed))
        labels.append(NONE)
        mentions.append([False] * len(DIRECTION_IDS))
    langs = ["en" if k % 3 else "zh" for k in range(len(labels))]
    weights = sample_weights(labels, langs)
    assert weights.mean() == pytest.approx(1.0)
    model = fit(
        np.stack(rows),
        labels,
        1.0,
        track_vectors,
        "test-encoder",
        taxonomy.version,
        {},
        np.asarray(mentions),
        weights,
    )
    assert model.mention_features and model.coef.shape == (7, DIM + 2 * len(DIRECTION_IDS))
    path = tmp_path / artefact_path("test-encoder").name
    path.write_text(model.to_json(), encoding="utf-8")
    loaded = load_classifier("test-encoder", taxonomy, track_vectors, path)
    assert loaded is not None and loaded.mention_features
    between = (_axis(2) + _axis(3)) / np.linalg.norm(_axis(2) + _axis(3))  # materials | energy
    flags = np.asarray([[d == "energy" for d in DIRECTION_IDS]])
    assert predict_labels(loaded, between[None, :], flags) == ["energy"]
    np.testing.assert_allclose(
        loaded.probabilities(between[None, :], flags),
        model.probabilities(between[None, :], flags),
        atol=1e-5,
    )
