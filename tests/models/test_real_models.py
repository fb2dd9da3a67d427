"""The real encoders and the real taxonomy: slow, but every stage runs on real parts here."""

import numpy as np
import pytest

from models.directions import embed_taxonomy, map_direction
from models.embed import build_encoder
from models.engine import EngineParams
from models.runner import process_pending
from models.taxonomy import load_taxonomy
from pipeline.db import session
from pipeline.ingest import ingest_file

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def use_encoder():
    return build_encoder("use-multilingual-v3")


def test_use_is_multilingual(use_encoder):
    vectors = use_encoder.encode(
        [
            "solid-state battery breakthrough",
            "固态电池技术突破",
            "the football match ended in a draw",
        ]
    )
    assert vectors.shape == (3, 512) and vectors.dtype == np.float32
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3


def test_minilm_through_sentence_transformers():
    encoder = build_encoder("minilm-offline")
    vectors = encoder.encode(["humanoid robot", "bipedal robot walking"])
    assert encoder.dim == 384 and encoder.name == "st:all-MiniLM-L6-v2"
    assert float(vectors[0] @ vectors[1]) > 0.4


@pytest.mark.parametrize("taxonomy", ["v1", "v2"])
def test_shipped_taxonomies_load(taxonomy):
    loaded = load_taxonomy(taxonomy)
    assert set(loaded.directions) == {
        "manufacturing",
        "information",
        "materials",
        "energy",
        "space",
        "health",
    }
    assert "脑机接口" in loaded.user_terms()


@pytest.mark.parametrize(
    ("text", "direction"),
    [
        ("Sulfide solid electrolytes enable all-solid-state lithium metal batteries", "energy"),
        ("人形机器人灵巧手与双足行走控制", "manufacturing"),
        ("Superconducting qubits and quantum error correction", "information"),
        ("非侵入式脑机接口解码运动意图", "health"),
        ("Neural network speech coder for low bit rate telephony", "information"),
        ("海上风电装机容量创新高", "energy"),
        ("Senate votes on the spending bill as the shutdown deadline nears", "unmapped"),
    ],
)
def test_directions_of_clear_texts(use_encoder, text, direction):
    tracks = embed_taxonomy(load_taxonomy("v1"), use_encoder)
    # As the engine maps a topic: its documents' vectors and texts (the classifier reads the
    # taxonomy terms a text names, EN or ZH, beside its vector).
    vectors = use_encoder.encode([text])
    match = map_direction(
        vectors[0], tracks, threshold=0.2, margin=0.0, members=vectors, texts=[text]
    )
    assert match.direction == direction


def test_real_engine_on_real_news(tmp_path, small_corpus, use_encoder):
    path = tmp_path / "db.duckdb"
    with session(path) as con:
        ingest_file(con, small_corpus)
    run = process_pending(path, EngineParams(granularity="month"), use_encoder, "v1")
    assert sum(p.n_topics for p in run.periods) > 10
    with session(path, read_only=True) as con:
        labels = con.execute(
            "SELECT label FROM topic_periods WHERE period = '2020-03' "
            "ORDER BY high_potential DESC LIMIT 5"
        ).fetchall()
        dims = con.execute("SELECT DISTINCT dim, model FROM embeddings").fetchall()
    assert dims == [(512, "use-multilingual-v3")]
    assert any("coronavirus" in label.lower() or "covid" in label.lower() for (label,) in labels), (
        labels
    )
