"""Off-topic news stays unmapped: US politics, celebrities and COVID-19 headlines (the HuffPost
sample the demo used before) are not future-industry directions, with the real encoder."""

from __future__ import annotations

import gzip
import json
import random
from collections import Counter
from pathlib import Path

import pytest

from models.directions import UNMAPPED, embed_taxonomy, map_direction
from models.embed import build_encoder
from models.engine import EngineParams
from models.taxonomy import load_taxonomy

HUFFPOST = Path(__file__).parent.parent / "fixtures" / "huffpost_2019H2_2020.jsonl.gz"


@pytest.mark.slow
def test_off_topic_headlines_stay_unmapped() -> None:
    with gzip.open(HUFFPOST, "rt", encoding="utf-8") as handle:
        docs = [json.loads(line) for line in handle]
    sample = random.Random(1).sample(docs, 200)
    encoder = build_encoder("use-multilingual-v3")
    tracks = embed_taxonomy(load_taxonomy("v1"), encoder)
    vectors = encoder.encode([f"{d['title']}\n{d['text']}" for d in sample])
    settings = EngineParams()
    mapped = Counter(
        map_direction(v, tracks, settings.direction_threshold, settings.direction_margin).direction
        for v in vectors
    )
    assert mapped[UNMAPPED] >= 0.9 * len(sample), mapped
