"""The direction classifier's lexical block: tokens, fitting, blending, JSON and determinism."""

import json
from pathlib import Path

import numpy as np
import pytest
from direction_helpers import one_track_taxonomy

from models.direction_lexical import LexicalModel, build_vocabulary, fit_lexical, tokens
from models.direction_model import (
    CLASSES,
    NONE,
    DirectionClassifier,
    fit_selected,
    load_classifier,
    predict_labels,
)
from models.directions import TrackVectors, direction_mentions, map_direction
from models.taxonomy import DIRECTION_IDS
from pipeline.errors import InputError

DIM = 10
# Words only one class uses (EN and ZH), and filler every class uses.
WORDS = {
    "manufacturing": ["welding", "gripper", "assembly line", "机器人", "焊接"],
    "information": ["compiler", "bandwidth", "router", "芯片", "算法"],
    "materials": ["alloy", "crystal", "polymer", "合金", "晶体"],
    "energy": ["battery", "electrolyte", "grid", "电池", "储能"],
    "space": ["orbit", "satellite", "launcher", "卫星", "火箭"],
    "health": ["vaccine", "clinical", "tumour", "疫苗", "肿瘤"],
    NONE: ["election", "football", "celebrity", "选举", "足球"],
}
FILLER = ["the", "new", "report", "says", "study", "today", "今天", "报道"]


def _axis(i: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    row = rng.normal(0, noise, DIM).astype(np.float32)
    row[i] += 1.0
    return row / np.linalg.norm(row)


def _text(label: str, rng: np.random.Generator) -> str:
    words = [*rng.choice(WORDS[label], 2), *rng.choice(FILLER, 3)]
    return " ".join(str(w) for w in rng.permutation(words))


def _data(n: int = 20) -> tuple[np.ndarray, list[str], list[str], list[str]]:
    """Noisy vectors (the vector model alone is often wrong) and clean texts."""
    rng = np.random.default_rng(0)
    rows, labels, texts, langs = [], [], [], []
    for k in range(n):
        for i, label in enumerate(CLASSES):
            axis = i if label != NONE else 6 + k % 4
            rows.append(_axis(axis, 0.7, rng))
            labels.append(label)
            texts.append(_text(label, rng))
            langs.append("en" if k % 3 else "zh")
    return np.stack(rows), labels, texts, langs


def _fit(lexical: bool = True) -> DirectionClassifier:
    x, labels, texts, langs = _data()
    taxonomy = one_track_taxonomy()
    return fit_selected(
        x,
        texts,
        direction_mentions(texts, taxonomy),
        labels,
        langs,
        len(labels),
        np.eye(DIM, dtype=np.float32)[: len(DIRECTION_IDS)],
        "test-encoder",
        taxonomy.version,
        {},
        c_grid=(1.0,),
        lexical_c_grid=(3.0,) if lexical else (),
        weight_grid=(0.0, 1.0),
    )


# A vector leaning to materials (the vector alone: materials 0.8, energy 0.06), a text
# naming energy's words.
_LEANING = np.asarray([0, 0, 0.95, np.sqrt(1 - 0.95**2), 0, 0, 0, 0, 0, 0], np.float32)
_ENERGY_TEXT = "battery electrolyte 电池 储能 report"


def test_tokens_are_english_words_and_bigrams_and_chinese_characters_and_bigrams() -> None:
    assert tokens("Solid-state Battery, a 钙钛矿电池!") == [
        "solid-state",
        "battery",
        "solid-state battery",
        "钙",
        "钛",
        "矿",
        "电",
        "池",
        "钙钛",
        "钛矿",
        "矿电",
        "电池",
    ]


def test_vocabulary_is_pruned_by_document_frequency() -> None:
    texts = ["battery grid"] * 3 + ["battery orbit", "rare word"] + ["x"] * 5
    vocabulary, idf = build_vocabulary(texts, max_features=2)
    # "rare", "word" and "rare word" occur once (below MIN_DF); two features kept, the most
    # frequent first: battery (4) then grid and "battery grid" (3), tie broken by the term.
    assert sorted(vocabulary) == ["battery", "battery grid"]
    assert idf[vocabulary["battery"]] < idf[vocabulary["battery grid"]]


def test_lexical_block_corrects_what_the_vector_alone_gets_wrong() -> None:
    model = _fit()
    assert model.lexical is not None and model.lexical.weight == 1.0
    assert model.meta["lexical_weight"] == 1.0
    alone = predict_labels(model, _LEANING[None, :])
    with_text = predict_labels(model, _LEANING[None, :], texts=[_ENERGY_TEXT])
    assert alone == ["materials"]
    assert with_text == ["energy"]


def test_a_topic_reads_its_documents_texts_and_a_bare_vector_still_maps() -> None:
    model = _fit()
    tracks = TrackVectors(one_track_taxonomy(), model.track_vectors, model)
    members = np.stack([_LEANING] * 4)
    with_texts = map_direction(
        _LEANING, tracks, 0.0, 0.0, members=members, texts=[_ENERGY_TEXT] * 4
    )
    bare = map_direction(_LEANING, tracks, 0.0, 0.0)
    assert with_texts.direction == "energy"
    assert bare.direction == "materials"


def test_lexical_block_survives_the_json_round_trip(tmp_path: Path) -> None:
    model = _fit()
    path = tmp_path / "test-encoder.json"
    path.write_text(model.to_json(), encoding="utf-8")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data["lexical"]) == {"weight", "terms", "idf", "intercept", "coef"}
    loaded = load_classifier("test-encoder", one_track_taxonomy(), model.track_vectors, path)
    assert loaded is not None and loaded.lexical is not None
    texts = [_ENERGY_TEXT, "election football", ""]
    rows = np.stack([_LEANING] * 3)
    np.testing.assert_allclose(
        loaded.probabilities(rows, None, loaded.lexical_scores(texts)),
        model.probabilities(rows, None, model.lexical_scores(texts)),
        atol=1e-4,
    )
    data["lexical"]["coef"] = data["lexical"]["coef"][:3]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match="coef"):
        load_classifier("test-encoder", one_track_taxonomy(), model.track_vectors, path)


def test_retraining_is_deterministic_and_without_the_block_leaves_it_out() -> None:
    first = _fit()
    assert first.to_json() == _fit().to_json()
    plain = _fit(lexical=False)
    assert plain.lexical is None and "lexical" not in json.loads(plain.to_json())


def test_fit_lexical_needs_every_class() -> None:
    with pytest.raises(ValueError, match="classes"):
        fit_lexical(["battery grid", "orbit launch"] * 2, [0, 1, 0, 1], 3, 1.0)
    model = fit_lexical(["battery grid", "orbit launch"] * 2, [0, 1, 0, 1], 2, 1.0)
    assert isinstance(model, LexicalModel)
    probs = np.exp(model.log_probabilities(["battery", "orbit", ""]))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert probs[0, 0] > 0.5 > probs[1, 0]
