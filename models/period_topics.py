"""The driver's pure part of a period: its clusters tracked to earlier topics, scored,
mapped to directions, its watches and its one ranked list of signals (a `PeriodWrite`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from models.directions import UNMAPPED, DirectionMatch, map_direction
from models.engine import (
    SERIES_LENGTH,
    EngineContext,
    EngineParams,
    PeriodClusters,
    PeriodHistory,
    PriorState,
)
from models.score import TopicHistory, measures, popularity_cuts, score_period
from models.signals import TermInput, build_signals, with_watches
from models.track import Assignment, end_drifted, match_clusters, moving_centroid, novelty
from models.watch import score_watches
from pipeline.periods import Period
from pipeline.records import Document
from pipeline.topic_store import (
    DirectionRow,
    LineageRow,
    PeriodWrite,
    TopicPeriodRow,
    TopicState,
)


def compute_period(
    period: Period,
    docs: Sequence[Document],
    vectors: NDArray[np.float32],
    clusters: PeriodClusters,
    prior: PriorState,
    params: EngineParams,
    ctx: EngineContext,
    term_input: TermInput | None = None,
) -> PeriodWrite:
    """The driver's pure part: tracking, scores, directions and watches of one period, and
    (given its terms) the period's one ranked list of signals."""
    write = (
        _topics_of_period(period, docs, vectors, clusters, prior, params, ctx)
        if docs
        else _empty_period(period, ctx)
    )
    if term_input is not None:
        with ctx.stopwatch.stage("signals"):
            signals = build_signals(
                period.label,
                docs,
                vectors,
                term_input,
                write.topics,
                [topic for _, topic, _ in write.doc_topics],
                ctx.tracks,
                ctx.encoder,
                params.direction_threshold,
                params.direction_margin,
                params.signals,
            )
        write = replace(write, signals=signals)
    if prior.watches:
        phrases = ctx.encoder.encode([w.watch.phrase for w in prior.watches])
        cuts = popularity_cuts([t.popularity for t in write.topics], params.score)
        rows = score_watches(
            period,
            docs,
            vectors,
            prior.watches,
            phrases,
            prior.history.periods,
            prior.history.totals,
            cuts,
            params.score,
        )
        write = replace(
            write,
            watch_rows=rows,
            signals=with_watches(
                write.signals, rows, {w.watch.watch_id: w.watch.phrase for w in prior.watches}
            ),
        )
    return write


def _topics_of_period(
    period: Period,
    docs: Sequence[Document],
    vectors: NDArray[np.float32],
    clusters: PeriodClusters,
    prior: PriorState,
    params: EngineParams,
    ctx: EngineContext,
) -> PeriodWrite:
    doc_ids = [d.doc_id for d in docs]
    states, history, stopwatch = prior.states, prior.history, ctx.stopwatch
    labels, strength, cluster_centroids = clusters.labels, clusters.strength, clusters.centroids
    with stopwatch.stage("track"):
        state_ids = [s.topic_id for s in states]
        state_matrix = (
            np.stack([s.centroid for s in states])
            if states
            else np.zeros((0, vectors.shape[1]), np.float32)
        )
        assignments, merges = match_clusters(
            period.label, cluster_centroids, state_ids, state_matrix, params.match_threshold
        )
    keywords = [clusters.keywords[a.cluster] for a in assignments]
    assignments = end_drifted(
        period.label,
        assignments,
        {s.topic_id: s.first_centroid for s in states},
        {s.topic_id: s.keywords for s in states},
        cluster_centroids,
        [[w for w, _ in words] for words in keywords],
        params.drift_end,
    )
    members = [[docs[int(i)] for i in np.flatnonzero(labels == a.cluster)] for a in assignments]
    phrases = [clusters.names[a.cluster] for a in assignments]
    with stopwatch.stage("score"):
        rows, directions = _topic_rows(
            period,
            len(docs),
            assignments,
            members,
            keywords,
            phrases,
            cluster_centroids,
            vectors,
            labels,
            states,
            history,
            params,
            ctx,
        )
    assigned = {a.cluster: a.topic_id for a in assignments}
    lineage = [
        LineageRow(a.topic_id, a.cluster, a.parent_topic_id, round(a.similarity, 6), a.event)
        for a in assignments
    ]
    lineage += [
        LineageRow(m.topic_id, m.cluster, m.into_topic_id, round(m.similarity, 6), "merged")
        for m in merges
    ]
    return PeriodWrite(
        period=period,
        run_id=ctx.run_id,
        model=ctx.encoder.name,
        taxonomy_version=ctx.tracks.taxonomy.version,
        n_docs=len(docs),
        n_outliers=int((labels < 0).sum()),
        topics=rows,
        doc_topics=[
            (doc_id, assigned.get(int(label)), round(float(s), 6))
            for doc_id, label, s in zip(doc_ids, labels, strength, strict=True)
        ],
        lineage=lineage,
        directions=directions,
    )


def _empty_period(period: Period, ctx: EngineContext) -> PeriodWrite:
    return PeriodWrite(
        period=period,
        run_id=ctx.run_id,
        model=ctx.encoder.name,
        taxonomy_version=ctx.tracks.taxonomy.version,
        n_docs=0,
        n_outliers=0,
        topics=(),
        doc_topics=(),
        lineage=(),
        directions=(),
    )


def _topic_rows(
    period: Period,
    n_period_docs: int,
    assignments: Sequence[Assignment],
    members: Sequence[Sequence[Document]],
    keywords: Sequence[Sequence[tuple[str, float]]],
    phrases: Sequence[str],
    cluster_centroids: NDArray[np.float32],
    vectors: NDArray[np.float32],
    labels: NDArray[np.int64],
    states: Sequence[TopicState],
    history: PeriodHistory,
    params: EngineParams,
    ctx: EngineContext,
) -> tuple[list[TopicPeriodRow], list[DirectionRow]]:
    by_id = {s.topic_id: s for s in states}
    continuing = {
        a.topic_id: len(group)
        for a, group in zip(assignments, members, strict=True)
        if a.event == "continued"
    }
    histories, extras = [], {}
    for a, group, words, label in zip(assignments, members, keywords, phrases, strict=True):
        centroid = cluster_centroids[a.cluster]
        state = by_id.get(a.topic_id)
        others = (
            np.stack([s.first_centroid for s in states if s.topic_id != a.topic_id])
            if len(states) > (1 if state else 0)
            else np.zeros((0, len(centroid)), np.float32)
        )
        share = len(group) / max(n_period_docs, 1)
        series = history.periods[-(SERIES_LENGTH - 1) :]
        origin, part = _history_origin(a, state, by_id, len(group), continuing, params)
        histories.append(
            TopicHistory(
                topic_id=a.topic_id,
                n_docs=len(group),
                share=share,
                previous_shares=[origin.shares.get(p, 0.0) * part for p in history.periods]
                if origin
                else [],
                previous_popularity=origin.popularity * part if origin else 0.0,
                periods_since_seen=period.steps_after(origin.last_period) if origin else 1,
                age_periods=period.steps_after(state.born_period) if state else 0,
                novelty=novelty(centroid, others),
                series_hits=[
                    *(round(origin.counts.get(p, 0) * part) if origin else 0 for p in series),
                    len(group),
                ],
                series_totals=[*history.totals[-len(series) :], n_period_docs]
                if series
                else [n_period_docs],
                kinds=len({d.kind for d in group}),
                periods_present=state.periods_present if state else 0,
            )
        )
        cohesion = float((vectors[labels == a.cluster] @ centroid).mean())
        extras[a.topic_id] = (a, group, [w for w, _ in words], label, centroid, state, cohesion)
    scores = {
        s.topic_id: s for s in score_period(period.label, histories, n_period_docs, params.score)
    }
    rows, directions = [], []
    for topic in histories:
        a, group, names, label, centroid, state, cohesion = extras[topic.topic_id]
        score = scores[topic.topic_id]
        match = map_direction(
            centroid,
            ctx.tracks,
            params.direction_threshold,
            params.direction_margin,
            members=vectors[labels == a.cluster],
            texts=[d.full_text for d in group],
        )
        drift = 1.0 - float(state.first_centroid @ centroid) if state else 0.0
        metrics = {
            "novelty": round(topic.novelty, 6),
            "cohesion": round(cohesion, 6),
            "age_periods": topic.age_periods,
            "lineage_event": a.event,
            "drift_from_birth": round(drift, 6),
            "sources": len({d.source for d in group}),
            "outlets": len({d.venue or d.source for d in group}),
            "kinds": sorted({d.kind for d in group}),
            "langs": sorted({d.lang for d in group}),
            "direction": match.direction,
            "direction_margin": match.margin,
            "direction_ambiguity": round(
                1 - max(*match.distribution.values(), match.none_weight), 6
            ),
            "direction_distribution": match.distribution,
            **measures(topic, params.score),
        }
        rows.append(
            TopicPeriodRow(
                topic_id=a.topic_id,
                born_period=(state.born_period if state else period).label,
                is_new=state is None,
                label=label,
                keywords=tuple(names),
                first_centroid=state.first_centroid if state else centroid,
                moving_centroid=moving_centroid(state.centroid, centroid) if state else centroid,
                period_centroid=centroid,
                n_docs=score.n_docs,
                share=round(score.share, 6),
                growth=score.growth,
                popularity=score.popularity,
                high_potential=score.high_potential,
                signal_class=score.signal_class,
                metrics=metrics,
                reasons=(*score.reasons, *match.evidence),
            )
        )
        directions += _direction_rows(a.topic_id, match)
    return rows, directions


def _history_origin(
    a: Assignment,
    state: TopicState | None,
    by_id: dict[str, TopicState],
    n_docs: int,
    continuing: dict[str, int],
    params: EngineParams,
) -> tuple[TopicState | None, float]:
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
    rows = [
        DirectionRow(
            topic_id,
            name,
            match.track if name == match.direction else None,
            match.similarity if name == match.direction else 0.0,
            weight,
            name == match.direction,
        )
        for name, weight in match.distribution.items()
    ]
    if match.direction == UNMAPPED:
        rows.append(
            DirectionRow(topic_id, UNMAPPED, None, match.similarity, match.none_weight, True)
        )
    return rows
