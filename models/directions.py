"""Mapping topics to the six directions by embedding similarity to the taxonomy's tracks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from models.cluster import unit
from models.embed import Encoder
from models.taxonomy import Taxonomy

UNMAPPED = "unmapped"


@dataclass(frozen=True)
class DirectionMatch:
    """A topic's best direction (or unmapped), its best track and the spread over directions."""

    direction: str
    track: str | None
    similarity: float
    margin: float
    distribution: dict[str, float]


@dataclass(frozen=True)
class TrackVectors:
    """The taxonomy embedded once per encoder: one unit vector per track (mean of EN and ZH)."""

    taxonomy: Taxonomy
    vectors: NDArray[np.float32]


def embed_taxonomy(taxonomy: Taxonomy, encoder: Encoder) -> TrackVectors:
    texts = [text for track in taxonomy.tracks for text in track.texts()]
    pairs = encoder.encode(texts).reshape(len(taxonomy.tracks), 2, -1)
    return TrackVectors(taxonomy, unit(pairs.mean(axis=1)))


def map_direction(centroid: NDArray[np.float32], tracks: TrackVectors, threshold: float,
                  margin: float, temperature: float = 0.05) -> DirectionMatch:
    """Best direction when its best track passes `threshold` and beats other directions by
    `margin`; the distribution is a softmax over each direction's best-track similarity."""
    sims = tracks.vectors @ unit(centroid[None, :])[0]
    per_direction: dict[str, tuple[float, str]] = {}
    for track, sim in zip(tracks.taxonomy.tracks, sims.tolist(), strict=True):
        if track.direction not in per_direction or sim > per_direction[track.direction][0]:
            per_direction[track.direction] = (sim, track.id)
    ranked = sorted(per_direction.items(), key=lambda item: (-item[1][0], item[0]))
    best_direction, (best_sim, best_track) = ranked[0]
    second = ranked[1][1][0] if len(ranked) > 1 else -1.0
    logits = np.asarray([value[0] for _, value in ranked]) / temperature
    weights = np.exp(logits - logits.max())
    weights /= weights.sum()
    distribution = {name: round(float(w), 6) for (name, _), w in zip(ranked, weights, strict=True)}
    mapped = best_sim >= threshold and best_sim - second >= margin
    return DirectionMatch(
        direction=best_direction if mapped else UNMAPPED,
        track=best_track if mapped else None,
        similarity=round(best_sim, 6), margin=round(best_sim - second, 6),
        distribution=distribution,
    )
