"""The engine's parameters and shared context, and the history-free steps of a period
(embed, cluster, keywords, candidate terms) that any worker runs.

A period is read and written in `models/process.py`; its topics are tracked, scored and
mapped in `models/period_topics.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from models.cluster import (
    Clusterer,
    ClusterParams,
    HdbscanClusterer,
    canonical_order,
    centroids,
    reattach_outliers,
)
from models.directions import TrackVectors
from models.embed import Encoder
from models.keywords import class_tfidf, class_tokens, topic_labels
from models.refine import cluster_outliers, split_large_clusters, split_size
from models.score import ScoreParams
from models.signals import SignalParams
from models.stopwatch import Stopwatch
from models.terms import PeriodTerms, TermParams, period_terms
from models.terms_score import TermScoreParams
from models.window import WindowParams, period_part, with_context
from pipeline.periods import Granularity, Period
from pipeline.records import Document
from pipeline.store import iter_batches
from pipeline.topic_store import TopicState
from pipeline.watch_store import WatchState


@dataclass(frozen=True)
class EngineParams:
    """Every knob of processing; stored with each run."""

    granularity: Granularity = "week"
    cluster: ClusterParams = field(default_factory=ClusterParams)
    score: ScoreParams = field(default_factory=ScoreParams)
    match_threshold: float = 0.6
    # Second pass over the first pass's outliers (models/refine.py); 0 turns it off.
    outlier_min_cluster_size: int = 0
    outlier_min_cohesion: float = 0.45
    outlier_reduce_dims: int = 20
    # Clusters above max(split_min, split_share x period documents) are split again
    # (models/refine.py); split_share 0 turns it off.
    split_share: float = 0.01
    split_min: int = 40
    # A topic born as a split measures growth against its parent's past (see _history_origin).
    split_inherits_history: bool = True
    # A continuation farther than this (1 - cosine) from the topic's birth centroid whose
    # keywords share nothing with the topic's last ones ends the topic (models/track.py
    # end_drifted); 2 turns it off.
    drift_end: float = 0.25
    direction_threshold: float = 0.25
    direction_margin: float = 0.0
    embed_batch_size: int = 64
    keywords_top_n: int = 10
    terms: TermParams = field(default_factory=TermParams)
    term_score: TermScoreParams = field(default_factory=TermScoreParams)
    signals: SignalParams = field(default_factory=SignalParams)
    # A period is processed only this many days after it ended (UTC): late publication.
    grace_days: float = 1.0
    # Thin periods clustered with the periods before them (models/window.py); off by default.
    window: WindowParams = field(default_factory=WindowParams)


SERIES_LENGTH = 10


@dataclass(frozen=True)
class PeriodHistory:
    """The processed periods before this one (oldest first) and their document counts."""

    periods: tuple[Period, ...] = ()
    totals: tuple[int, ...] = ()


@dataclass(frozen=True)
class PeriodSummary:
    """What processing one period produced."""

    period: str
    n_docs: int
    n_topics: int
    n_new_topics: int
    n_outliers: int
    n_flagged: int


@dataclass(frozen=True)
class EngineContext:
    """The built components a run shares across periods."""

    encoder: Encoder
    clusterer: Clusterer
    tracks: TrackVectors
    user_terms: tuple[str, ...]
    run_id: str
    # Per-stage seconds (read, embed_new, cluster, track, keywords, score, write), summed
    # over the periods this context processes; benchmarks and backtests read it.
    stopwatch: Stopwatch = field(default_factory=Stopwatch)


@dataclass(frozen=True)
class PriorState:
    """What finishing a period needs of the periods processed before it."""

    states: tuple[TopicState, ...]
    history: PeriodHistory
    watches: tuple[WatchState, ...]


@dataclass(frozen=True)
class PeriodClusters:
    """The pure, history-free part of a period: clusters, centroids and keywords per cluster.

    Computed on any worker from plain arrays and texts; `seconds` carries its stage times
    back to the driver's stopwatch.
    """

    labels: NDArray[np.int64]
    strength: NDArray[np.floating]
    centroids: NDArray[np.float32]
    keywords: tuple[tuple[tuple[str, float], ...], ...]
    seconds: dict[str, float] = field(default_factory=dict)
    names: tuple[str, ...] = ()  # each cluster's label (`topic_labels`), in cluster order


def extract_terms(
    docs: Sequence[Document], params: EngineParams, user_terms: tuple[str, ...]
) -> PeriodTerms | None:
    """The period's candidate terms and their counts: pure, no history, any worker."""
    if not params.signals.enabled or not docs:
        return None
    return period_terms(docs, params.terms, user_terms)


def encode_missing(
    todo: Sequence[str], docs: Sequence[Document], encoder: Encoder, batch_size: int
) -> NDArray[np.float32]:
    """Vectors for the hashes in `todo`, encoded in batches, in the same order."""
    text_of = {d.content_hash: d.full_text for d in docs}
    batches = [
        embed_texts([text_of[h] for h in batch], encoder)
        for batch in iter_batches(todo, batch_size)
    ]
    return np.concatenate(batches) if batches else np.zeros((0, encoder.dim), np.float32)


def embed_texts(texts: Sequence[str], encoder: Encoder) -> NDArray[np.float32]:
    """One batch of texts to unit vectors: a pure function, run wherever the encoder is."""
    return encoder.encode(texts)


def cluster_period(
    doc_ids: Sequence[str],
    texts: Sequence[str],
    vectors: NDArray[np.float32],
    params: EngineParams,
    user_terms: tuple[str, ...],
    clusterer: Clusterer | None = None,
    context: NDArray[np.float32] | None = None,
) -> PeriodClusters:
    """Clusters, centroids and keywords of one period: pure, no history, any worker.

    Takes plain ids, texts and vectors (one row each, the period's stable document order);
    keywords are per cluster in cluster order, which is the tracker's assignment order.
    `context`: the trailing window's earlier vectors (models/window.py), clustered with the
    period's; only the period's own documents are labelled and described.
    """
    stopwatch = Stopwatch()
    if not len(doc_ids):
        return PeriodClusters(
            np.zeros(0, np.int64),
            np.zeros(0),
            np.zeros((0, vectors.shape[1]), np.float32),
            (),
            stopwatch.seconds,
        )
    with stopwatch.stage("cluster"):
        window = with_context(context, vectors)
        raw = (clusterer or HdbscanClusterer(params.cluster)).fit_predict(window)
        raw = split_large_clusters(
            window,
            raw,
            params.cluster,
            split_size(len(window), params.split_share, params.split_min),
        )
        raw = cluster_outliers(
            window,
            raw,
            params.cluster,
            params.outlier_min_cluster_size,
            params.outlier_min_cohesion,
            params.outlier_reduce_dims,
        )
        labels, strength = reattach_outliers(window, raw, params.cluster.reattach_threshold)
        if len(window) > len(vectors):
            labels, strength = period_part(
                labels, strength, len(window) - len(vectors), params.window.min_period_docs
            )
        labels = canonical_order(labels, list(doc_ids))
        cluster_centroids = centroids(vectors, labels)
    with stopwatch.stage("keywords"):
        groups = [
            [texts[int(i)] for i in np.flatnonzero(labels == c)]
            for c in range(len(cluster_centroids))
        ]
        tokens = class_tokens(groups, user_terms)  # read by both, tokenised once
        keywords = class_tfidf(groups, user_terms, params.keywords_top_n, tokens=tokens)
        # A document's text is "title\ntext" (Document.full_text): its first line is the title.
        names = topic_labels(
            groups,
            [[text.split("\n", 1)[0] for text in group] for group in groups],
            user_terms,
            tokens=tokens,
        )
    return PeriodClusters(
        labels,
        strength,
        cluster_centroids,
        tuple(tuple(words) for words in keywords),
        stopwatch.seconds,
        tuple(names),
    )
