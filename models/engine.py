"""One period through the engine: embed, cluster, track, keywords, score, map directions."""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

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
from models.directions import UNMAPPED, DirectionMatch, TrackVectors, map_direction
from models.embed import Encoder
from models.keywords import class_tfidf, topic_labels
from models.refine import cluster_outliers, split_large_clusters, split_size
from models.score import ScoreParams, TopicHistory, measures, popularity_cuts, score_period
from models.signals import SERIES_LENGTH as TERM_SERIES
from models.signals import (
    SignalParams,
    TermInput,
    build_signals,
    read_term_input,
    with_watches,
)
from models.stopwatch import Stopwatch
from models.terms import PeriodTerms, TermParams, period_terms
from models.terms_score import TermScoreParams
from models.track import Assignment, end_drifted, match_clusters, moving_centroid, novelty
from models.watch import score_watches
from models.window import WindowParams, period_part, window_start, with_context
from pipeline.db import session, transaction
from pipeline.periods import Granularity, Period
from pipeline.records import Document
from pipeline.store import (
    date_span,
    documents_between,
    insert_embeddings,
    iter_batches,
    load_embedding_map,
    missing_embeddings,
)
from pipeline.topic_store import (
    DirectionRow,
    LineageRow,
    PeriodWrite,
    TopicPeriodRow,
    TopicState,
    load_topic_states,
    period_totals,
    processed_periods,
    write_period,
)
from pipeline.watch_store import WatchState, load_watch_states

if TYPE_CHECKING:
    import duckdb


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


def embed_documents(db_path: Path, docs: Sequence[Document], encoder: Encoder,
                    batch_size: int,
                    on_batch: Callable[[int, int], None] | None = None) -> int:
    """Embed texts with no vector for this encoder yet, a batch per short write; returns count.

    Each batch is committed on its own, so a killed run keeps what it finished;
    `on_batch(done, total)` reports progress after each.
    """
    with session(db_path) as con:
        todo = missing_embeddings(con, [d.content_hash for d in docs], encoder.name)
    done = 0
    for batch in iter_batches(todo, batch_size):
        vectors = encode_missing(batch, docs, encoder, batch_size)
        with session(db_path) as con, transaction(con):
            insert_embeddings(con, list(batch), encoder.name, vectors)
        done += len(batch)
        if on_batch:
            on_batch(done, len(todo))
    return len(todo)


def pending_periods(db_path: Path, granularity: Granularity, now: datetime | None = None,
                    grace_days: float = 1.0) -> list[Period]:
    """Closed periods, from the first document on, not processed yet (see models/plan.py).

    A period is closed once it ended (UTC) plus the grace; open periods wait.
    """
    with session(db_path) as con:
        span = date_span(con)
        done = set(processed_periods(con, granularity))
    if span is None:
        return []
    first, last = (Period.of(day, granularity) for day in span)
    when, grace = now or datetime.now(UTC), timedelta(days=grace_days)
    return [p for p in first.until(last) if p not in done and p.is_closed(when, grace)]


@dataclass(frozen=True)
class PeriodInput:
    """What the driver reads of one period: its documents and the vectors already stored."""

    period: Period
    docs: tuple[Document, ...]
    hashes: tuple[str, ...]
    known: dict[str, NDArray[np.float32]]
    # The trailing window's earlier documents (thin periods only), which shape the clusters.
    context_hashes: tuple[str, ...] = ()

    def missing(self, skip: Container[str] = ()) -> list[str]:
        """Hashes with no stored vector, each once, in document order (`skip` left out)."""
        return [h for h in dict.fromkeys(self.hashes) if h not in self.known and h not in skip]

    def texts_of(self, hashes: Sequence[str]) -> list[str]:
        text_of = {d.content_hash: d.full_text for d in self.docs}
        return [text_of[h] for h in hashes]

    def context(self, fresh: dict[str, NDArray[np.float32]]) -> NDArray[np.float32] | None:
        """The window's earlier vectors: stored ones, else computed but not yet written."""
        rows = [self.known[h] if h in self.known else fresh[h] for h in self.context_hashes
                if h in self.known or len(fresh.get(h, ())) > 0]
        return np.asarray(rows, dtype=np.float32) if rows else None

    def vectors(self, fresh: dict[str, NDArray[np.float32]], dim: int) -> NDArray[np.float32]:
        """One row per document: the stored vector, else the fresh one."""
        if not self.hashes:
            return np.zeros((0, dim), dtype=np.float32)
        return np.asarray([self.known[h] if h in self.known else fresh[h]
                           for h in self.hashes], dtype=np.float32)


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


def read_period(con: duckdb.DuckDBPyConnection, period: Period, model: str,
                window: WindowParams | None = None) -> PeriodInput:
    """The period's documents (stable order) and the vectors this model already has for them;
    for a thin period (`window`), the earlier documents of its trailing window too."""
    docs = documents_between(con, period.start, period.last_day)
    hashes = tuple(d.content_hash for d in docs)
    context: tuple[str, ...] = ()
    if window is not None and window.applies(len(docs)):
        context = tuple(d.content_hash for d in documents_between(
            con, window_start(period, window.periods), period.start - timedelta(days=1)))
    return PeriodInput(period, tuple(docs), hashes,
                       load_embedding_map(con, list(dict.fromkeys(hashes + context)), model),
                       context)


def read_prior(con: duckdb.DuckDBPyConnection, period: Period,
               params: EngineParams) -> PriorState:
    """Topic states, document totals and watches of the processed periods before `period`."""
    earlier = [p for p in processed_periods(con, params.granularity) if p < period]
    recent = earlier[-max(params.score.window, SERIES_LENGTH - 1):]
    states = load_topic_states(con, params.granularity, recent)
    totals = period_totals(con, params.granularity, recent)
    watches = load_watch_states(con, params.granularity, recent)
    return PriorState(tuple(states), PeriodHistory(tuple(recent),
                                                   tuple(totals.get(p, 0) for p in recent)),
                      tuple(watches))


def process_period(db_path: Path, period: Period, params: EngineParams,
                   ctx: EngineContext) -> PeriodSummary:
    """Process one period end to end with two short connections: one read, one write.

    New vectors are computed with no connection held and written in the same transaction as
    the period's rows (opening a DuckDB file costs ~20 ms and closing it a checkpoint, which
    dominated weekly runs when each step opened its own). The same four steps (read, embed,
    cluster, finish) run spread over workers in `models.parallel`.
    """
    stopwatch = ctx.stopwatch
    with stopwatch.stage("read"), session(db_path) as con:
        data = read_period(con, period, ctx.encoder.name, params.window)
        prior = read_prior(con, period, params)
    todo = data.missing()
    with stopwatch.stage("embed_new"):
        fresh = encode_missing(todo, data.docs, ctx.encoder, params.embed_batch_size)
    vectors = data.vectors(dict(zip(todo, fresh, strict=True)), ctx.encoder.dim)
    clusters = cluster_period([d.doc_id for d in data.docs], [d.full_text for d in data.docs],
                              vectors, params, ctx.user_terms, ctx.clusterer, data.context({}))
    for stage, seconds in clusters.seconds.items():
        stopwatch.seconds[stage] = stopwatch.seconds.get(stage, 0.0) + seconds
    return finish_period(db_path, data, vectors, clusters, prior, todo, fresh, params, ctx)


def finish_period(db_path: Path, data: PeriodInput, vectors: NDArray[np.float32],
                  clusters: PeriodClusters, prior: PriorState, todo: Sequence[str],
                  fresh: NDArray[np.float32], params: EngineParams,
                  ctx: EngineContext, terms: PeriodTerms | None = None) -> PeriodSummary:
    """On the driver, in period order: terms, track, score, directions, watches, signals, then
    the one write (a period's terms need the earlier periods' term rows).

    `terms`: the period's candidate terms when a worker already extracted them
    (`extract_terms`, history-free); else they are extracted here.
    """
    term_input = None
    if params.signals.enabled and data.docs:
        with ctx.stopwatch.stage("terms"), session(db_path) as con:
            term_input = read_terms(con, data, params, ctx, terms)
    write = compute_period(data.period, data.docs, vectors, clusters, prior, params, ctx,
                           term_input)
    with ctx.stopwatch.stage("write"), session(db_path) as con, transaction(con):
        if len(todo):
            insert_embeddings(con, list(todo), ctx.encoder.name, fresh)
        write_period(con, write)
    return PeriodSummary(
        period=data.period.label, n_docs=len(data.docs), n_topics=len(write.topics),
        n_new_topics=sum(t.is_new for t in write.topics), n_outliers=write.n_outliers,
        n_flagged=sum(t.signal_class != "noise" for t in write.topics),
    )


def extract_terms(docs: Sequence[Document], params: EngineParams,
                  user_terms: tuple[str, ...]) -> PeriodTerms | None:
    """The period's candidate terms and their counts: pure, no history, any worker."""
    if not params.signals.enabled or not docs:
        return None
    return period_terms(docs, params.terms, user_terms)


def read_terms(con: duckdb.DuckDBPyConnection, data: PeriodInput, params: EngineParams,
               ctx: EngineContext, terms: PeriodTerms | None = None) -> TermInput:
    """The period's candidate terms, their history, measures and the earlier signals."""
    earlier = [p for p in processed_periods(con, params.granularity) if p < data.period]
    totals = period_totals(con, params.granularity, earlier[-TERM_SERIES:])
    # The term store keys its history by the stored labels.
    return read_term_input(con, params.granularity, data.docs, [p.label for p in earlier],
                           {p.label: n for p, n in totals.items()}, params.terms,
                           params.term_score, params.signals, ctx.user_terms, terms)


def encode_missing(todo: Sequence[str], docs: Sequence[Document], encoder: Encoder,
                   batch_size: int) -> NDArray[np.float32]:
    """Vectors for the hashes in `todo`, encoded in batches, in the same order."""
    text_of = {d.content_hash: d.full_text for d in docs}
    batches = [embed_texts([text_of[h] for h in batch], encoder)
               for batch in iter_batches(todo, batch_size)]
    return np.concatenate(batches) if batches else np.zeros((0, encoder.dim), np.float32)


def embed_texts(texts: Sequence[str], encoder: Encoder) -> NDArray[np.float32]:
    """One batch of texts to unit vectors: a pure function, run wherever the encoder is."""
    return encoder.encode(texts)


def cluster_period(doc_ids: Sequence[str], texts: Sequence[str],
                   vectors: NDArray[np.float32], params: EngineParams,
                   user_terms: tuple[str, ...],
                   clusterer: Clusterer | None = None,
                   context: NDArray[np.float32] | None = None) -> PeriodClusters:
    """Clusters, centroids and keywords of one period: pure, no history, any worker.

    Takes plain ids, texts and vectors (one row each, the period's stable document order);
    keywords are per cluster in cluster order, which is the tracker's assignment order.
    `context`: the trailing window's earlier vectors (models/window.py), clustered with the
    period's; only the period's own documents are labelled and described.
    """
    stopwatch = Stopwatch()
    if not len(doc_ids):
        return PeriodClusters(np.zeros(0, np.int64), np.zeros(0), np.zeros(
            (0, vectors.shape[1]), np.float32), (), stopwatch.seconds)
    with stopwatch.stage("cluster"):
        window = with_context(context, vectors)
        raw = (clusterer or HdbscanClusterer(params.cluster)).fit_predict(window)
        raw = split_large_clusters(window, raw, params.cluster,
                                   split_size(len(window), params.split_share,
                                              params.split_min))
        raw = cluster_outliers(window, raw, params.cluster, params.outlier_min_cluster_size,
                               params.outlier_min_cohesion, params.outlier_reduce_dims)
        labels, strength = reattach_outliers(window, raw, params.cluster.reattach_threshold)
        if len(window) > len(vectors):
            labels, strength = period_part(labels, strength, len(window) - len(vectors),
                                           params.window.min_period_docs)
        labels = canonical_order(labels, list(doc_ids))
        cluster_centroids = centroids(vectors, labels)
    with stopwatch.stage("keywords"):
        groups = [[texts[int(i)] for i in np.flatnonzero(labels == c)]
                  for c in range(len(cluster_centroids))]
        keywords = class_tfidf(groups, user_terms, params.keywords_top_n)
        # A document's text is "title\ntext" (Document.full_text): its first line is the title.
        names = topic_labels(groups, [[text.split("\n", 1)[0] for text in group]
                                      for group in groups], user_terms)
    return PeriodClusters(labels, strength, cluster_centroids,
                          tuple(tuple(words) for words in keywords), stopwatch.seconds,
                          tuple(names))


def compute_period(period: Period, docs: Sequence[Document], vectors: NDArray[np.float32],
                   clusters: PeriodClusters, prior: PriorState, params: EngineParams,
                   ctx: EngineContext, term_input: TermInput | None = None) -> PeriodWrite:
    """The driver's pure part: tracking, scores, directions and watches of one period, and
    (given its terms) the period's one ranked list of signals."""
    write = (_topics_of_period(period, docs, vectors, clusters, prior, params, ctx) if docs
             else _empty_period(period, ctx))
    if term_input is not None:
        with ctx.stopwatch.stage("signals"):
            signals = build_signals(
                period.label, docs, vectors, term_input, write.topics,
                [topic for _, topic, _ in write.doc_topics], ctx.tracks, ctx.encoder,
                params.direction_threshold, params.direction_margin, params.signals)
        write = replace(write, signals=signals)
    if prior.watches:
        phrases = ctx.encoder.encode([w.watch.phrase for w in prior.watches])
        cuts = popularity_cuts([t.popularity for t in write.topics], params.score)
        rows = score_watches(period, docs, vectors, prior.watches, phrases,
                             prior.history.periods, prior.history.totals, cuts, params.score)
        write = replace(write, watch_rows=rows, signals=with_watches(
            write.signals, rows, {w.watch.watch_id: w.watch.phrase for w in prior.watches}))
    return write


def _topics_of_period(period: Period, docs: Sequence[Document], vectors: NDArray[np.float32],
                      clusters: PeriodClusters, prior: PriorState, params: EngineParams,
                      ctx: EngineContext) -> PeriodWrite:
    doc_ids = [d.doc_id for d in docs]
    states, history, stopwatch = prior.states, prior.history, ctx.stopwatch
    labels, strength, cluster_centroids = clusters.labels, clusters.strength, clusters.centroids
    with stopwatch.stage("track"):
        state_ids = [s.topic_id for s in states]
        state_matrix = (np.stack([s.centroid for s in states]) if states
                        else np.zeros((0, vectors.shape[1]), np.float32))
        assignments, merges = match_clusters(period.label, cluster_centroids, state_ids,
                                             state_matrix, params.match_threshold)
    keywords = [clusters.keywords[a.cluster] for a in assignments]
    assignments = end_drifted(
        period.label, assignments, {s.topic_id: s.first_centroid for s in states},
        {s.topic_id: s.keywords for s in states}, cluster_centroids,
        [[w for w, _ in words] for words in keywords], params.drift_end)
    members = [[docs[int(i)] for i in np.flatnonzero(labels == a.cluster)] for a in assignments]
    phrases = [clusters.names[a.cluster] for a in assignments]
    with stopwatch.stage("score"):
        rows, directions = _topic_rows(period, len(docs), assignments, members, keywords,
                                       phrases,
                                       cluster_centroids, vectors, labels, states, history,
                                       params, ctx)
    assigned = {a.cluster: a.topic_id for a in assignments}
    lineage = [LineageRow(a.topic_id, a.cluster, a.parent_topic_id, round(a.similarity, 6),
                          a.event) for a in assignments]
    lineage += [LineageRow(m.topic_id, m.cluster, m.into_topic_id, round(m.similarity, 6),
                           "merged") for m in merges]
    return PeriodWrite(
        period=period, run_id=ctx.run_id, model=ctx.encoder.name,
        taxonomy_version=ctx.tracks.taxonomy.version,
        n_docs=len(docs), n_outliers=int((labels < 0).sum()), topics=rows,
        doc_topics=[(doc_id, assigned.get(int(label)), round(float(s), 6))
                    for doc_id, label, s in zip(doc_ids, labels, strength, strict=True)],
        lineage=lineage, directions=directions,
    )


def _empty_period(period: Period, ctx: EngineContext) -> PeriodWrite:
    return PeriodWrite(
        period=period, run_id=ctx.run_id, model=ctx.encoder.name,
        taxonomy_version=ctx.tracks.taxonomy.version,
        n_docs=0, n_outliers=0, topics=(), doc_topics=(), lineage=(), directions=(),
    )


def _topic_rows(period: Period, n_period_docs: int, assignments: Sequence[Assignment],
                members: Sequence[Sequence[Document]],
                keywords: Sequence[Sequence[tuple[str, float]]], phrases: Sequence[str],
                cluster_centroids: NDArray[np.float32], vectors: NDArray[np.float32],
                labels: NDArray[np.int64], states: Sequence[TopicState],
                history: PeriodHistory, params: EngineParams,
                ctx: EngineContext) -> tuple[list[TopicPeriodRow], list[DirectionRow]]:
    by_id = {s.topic_id: s for s in states}
    continuing = {a.topic_id: len(group) for a, group in zip(assignments, members, strict=True)
                  if a.event == "continued"}
    histories, extras = [], {}
    for a, group, words, label in zip(assignments, members, keywords, phrases, strict=True):
        centroid = cluster_centroids[a.cluster]
        state = by_id.get(a.topic_id)
        others = np.stack([s.first_centroid for s in states if s.topic_id != a.topic_id]) \
            if len(states) > (1 if state else 0) else np.zeros((0, len(centroid)), np.float32)
        share = len(group) / max(n_period_docs, 1)
        series = history.periods[-(SERIES_LENGTH - 1):]
        origin, part = _history_origin(a, state, by_id, len(group), continuing, params)
        histories.append(TopicHistory(
            topic_id=a.topic_id, n_docs=len(group), share=share,
            previous_shares=[origin.shares.get(p, 0.0) * part for p in history.periods]
            if origin else [],
            previous_popularity=origin.popularity * part if origin else 0.0,
            periods_since_seen=period.steps_after(origin.last_period) if origin else 1,
            age_periods=period.steps_after(state.born_period) if state else 0,
            novelty=novelty(centroid, others),
            series_hits=[*(round(origin.counts.get(p, 0) * part) if origin else 0
                           for p in series), len(group)],
            series_totals=[*history.totals[-len(series):], n_period_docs] if series
            else [n_period_docs],
            kinds=len({d.kind for d in group}),
            periods_present=state.periods_present if state else 0,
        ))
        cohesion = float((vectors[labels == a.cluster] @ centroid).mean())
        extras[a.topic_id] = (a, group, [w for w, _ in words], label, centroid, state, cohesion)
    scores = {s.topic_id: s
              for s in score_period(period.label, histories, n_period_docs, params.score)}
    rows, directions = [], []
    for topic in histories:
        a, group, names, label, centroid, state, cohesion = extras[topic.topic_id]
        score = scores[topic.topic_id]
        match = map_direction(centroid, ctx.tracks, params.direction_threshold,
                              params.direction_margin, members=vectors[labels == a.cluster],
                              texts=[d.full_text for d in group])
        drift = 1.0 - float(state.first_centroid @ centroid) if state else 0.0
        metrics = {
            "novelty": round(topic.novelty, 6), "cohesion": round(cohesion, 6),
            "age_periods": topic.age_periods, "lineage_event": a.event,
            "drift_from_birth": round(drift, 6),
            "sources": len({d.source for d in group}),
            "outlets": len({d.venue or d.source for d in group}),
            "kinds": sorted({d.kind for d in group}),
            "langs": sorted({d.lang for d in group}),
            "direction": match.direction, "direction_margin": match.margin,
            "direction_ambiguity": round(1 - max(*match.distribution.values(),
                                                 match.none_weight), 6),
            "direction_distribution": match.distribution,
            **measures(topic, params.score),
        }
        rows.append(TopicPeriodRow(
            topic_id=a.topic_id, born_period=(state.born_period if state else period).label,
            is_new=state is None, label=label, keywords=tuple(names),
            first_centroid=state.first_centroid if state else centroid,
            moving_centroid=moving_centroid(state.centroid, centroid) if state else centroid,
            period_centroid=centroid, n_docs=score.n_docs, share=round(score.share, 6),
            growth=score.growth, popularity=score.popularity,
            high_potential=score.high_potential, signal_class=score.signal_class,
            metrics=metrics, reasons=(*score.reasons, *match.evidence),
        ))
        directions += _direction_rows(a.topic_id, match)
    return rows, directions


def _history_origin(a: Assignment, state: TopicState | None, by_id: dict[str, TopicState],
                    n_docs: int, continuing: dict[str, int],
                    params: EngineParams) -> tuple[TopicState | None, float]:
    """Whose past a topic's growth, popularity and burst are measured against, and what part.

    A continuing topic has its own past. A cluster born as a split of an earlier topic (it
    matched that topic, but the topic's own continuation matched better) inherits the
    parent's past in proportion to its size beside that continuation: a big stable topic
    whose clustering shifted must not make its fragment look like a 30-fold surge (measured:
    a 36-document exoskeleton fragment of a 2002 robotics topic was flagged in 2013 as new).
    The successor of a topic ended for drift (born with a parent) inherits its whole past the
    same way: the cluster was there last period, only its subject changed.
    """
    if state is not None:
        return state, 1.0
    parent = by_id.get(a.parent_topic_id or "") if a.event in ("split", "born") else None
    if parent is None or not params.split_inherits_history:
        return None, 1.0
    return parent, n_docs / (n_docs + continuing.get(parent.topic_id, 0))


def _direction_rows(topic_id: str, match: DirectionMatch) -> list[DirectionRow]:
    rows = [DirectionRow(topic_id, name, match.track if name == match.direction else None,
                         match.similarity if name == match.direction else 0.0, weight,
                         name == match.direction)
            for name, weight in match.distribution.items()]
    if match.direction == UNMAPPED:
        rows.append(DirectionRow(topic_id, UNMAPPED, None, match.similarity,
                                 match.none_weight, True))
    return rows
