"""Matching each period's clusters to earlier topics: stable ids, births, merges, splits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pipeline.records import LineageEvent


@dataclass(frozen=True)
class Assignment:
    """Which topic a cluster became, and why."""

    cluster: int
    topic_id: str
    event: LineageEvent
    parent_topic_id: str | None
    similarity: float


@dataclass(frozen=True)
class MergeNote:
    """An earlier topic that also matched a cluster already taken by another topic."""

    cluster: int
    topic_id: str
    into_topic_id: str
    similarity: float


def new_topic_id(period: str, index: int) -> str:
    """Readable and stable: born period, then the cluster's rank in that period."""
    return f"{period}/{index:02d}"


def match_clusters(
    period: str,
    cluster_centroids: NDArray[np.float32],
    topic_ids: list[str],
    topic_centroids: NDArray[np.float32],
    threshold: float,
) -> tuple[list[Assignment], list[MergeNote]]:
    """Greedy one-to-one matching by cosine, best pairs first; the rest are born or merged."""
    n_clusters = len(cluster_centroids)
    sims = (
        cluster_centroids @ topic_centroids.T
        if len(topic_ids)
        else np.zeros((n_clusters, 0), dtype=np.float32)
    )
    pairs = sorted(
        (
            (float(sims[c, t]), c, t)
            for c in range(n_clusters)
            for t in range(len(topic_ids))
            if sims[c, t] >= threshold
        ),
        key=lambda pair: (-pair[0], pair[1], topic_ids[pair[2]]),
    )
    cluster_topic: dict[int, Assignment] = {}
    taken: set[int] = set()
    for sim, c, t in pairs:
        if c in cluster_topic or t in taken:
            continue
        cluster_topic[c] = Assignment(c, topic_ids[t], "continued", topic_ids[t], sim)
        taken.add(t)
    assignments: list[Assignment] = []
    born = 0
    for c in range(n_clusters):
        if c in cluster_topic:
            assignments.append(cluster_topic[c])
            continue
        topic_id = new_topic_id(period, born)
        born += 1
        best = int(sims[c].argmax()) if sims.shape[1] else -1
        if best >= 0 and sims[c, best] >= threshold:
            assignments.append(
                Assignment(c, topic_id, "split", topic_ids[best], float(sims[c, best]))
            )
        else:
            similarity = float(sims[c, best]) if best >= 0 else 0.0
            assignments.append(Assignment(c, topic_id, "born", None, similarity))
    merges = [
        MergeNote(c, topic_ids[t], cluster_topic[c].topic_id, sim)
        for sim, c, t in pairs
        if t not in taken and c in cluster_topic and cluster_topic[c].topic_id != topic_ids[t]
    ]
    return assignments, _first_merge_per_topic(merges)


def _first_merge_per_topic(merges: list[MergeNote]) -> list[MergeNote]:
    seen: set[str] = set()
    kept = []
    for note in merges:
        if note.topic_id not in seen:
            seen.add(note.topic_id)
            kept.append(note)
    return kept


def moving_centroid(
    old: NDArray[np.float32], new: NDArray[np.float32], weight_new: float = 0.5
) -> NDArray[np.float32]:
    """Exponential moving average of unit centroids, renormalised."""
    mixed = (1 - weight_new) * old + weight_new * new
    return (mixed / max(float(np.linalg.norm(mixed)), 1e-12)).astype(np.float32)


def novelty(centroid: NDArray[np.float32], earlier: NDArray[np.float32]) -> float:
    """One minus the best cosine to any earlier topic (1.0 when there is none)."""
    if len(earlier) == 0:
        return 1.0
    return float(1.0 - np.max(earlier @ centroid))


def end_drifted(
    period: str,
    assignments: Sequence[Assignment],
    first_centroids: dict[str, NDArray[np.float32]],
    previous_keywords: dict[str, tuple[str, ...]],
    centroids: NDArray[np.float32],
    keywords: Sequence[Sequence[str]],
    max_drift: float,
) -> list[Assignment]:
    """End continuations that drifted away from what the topic was.

    A continuation is ended when its cluster's centroid is more than `max_drift` (1 - cosine)
    from the topic's birth centroid and its keywords (aligned with `assignments`) share
    nothing with the topic's keywords of its last period: the cluster is born under a new id
    with the ended topic as its parent (lineage `born`). `max_drift` >= 2 turns it off.
    """
    born = sum(a.event != "continued" for a in assignments)
    out = []
    for a, words in zip(assignments, keywords, strict=True):
        first = first_centroids.get(a.topic_id)
        before = set(previous_keywords.get(a.topic_id, ()))
        if (
            a.event == "continued"
            and first is not None
            and before
            and 1.0 - float(first @ centroids[a.cluster]) > max_drift
            and not before & set(words)
        ):
            out.append(
                Assignment(a.cluster, new_topic_id(period, born), "born", a.topic_id, a.similarity)
            )
            born += 1
        else:
            out.append(a)
    return out
