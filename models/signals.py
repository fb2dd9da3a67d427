"""Signals: rising terms merged by shared documents or meaning, ranked with the period's
topics in one list (docs/scores.md, "Signals and the ranked list").

A term signal is a group of the period's rising terms that share documents (overlap
coefficient) or mean the same thing (cosine of their embeddings under the product's encoder,
so 钙钛矿太阳能电池 and "perovskite solar cell" can meet). It carries its documents as evidence,
its terms in both languages, the topics that hold its documents, a direction from the topics'
mapper, and when each kind of source and each language first had its terms (lead-lag). Term
signals and topic signals are ranked by one score: flagged items first, then by score.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
from numpy.typing import NDArray

from models.directions import TrackVectors, map_direction
from models.embed import Encoder
from models.terms import PeriodTerms, TermParams, period_terms
from models.terms_score import TermMeasures, TermScoreParams, term_measures, term_reasons
from pipeline.records import Document
from pipeline.signal_store import (
    SignalRow,
    SignalState,
    SignalWrite,
    TermRows,
    first_seen,
    load_signal_states,
    load_term_history,
)
from pipeline.topic_store import TopicPeriodRow
from pipeline.watch_store import WatchRow

_CJK = re.compile(r"[\u3400-\u9fff]")
SERIES_LENGTH = 9  # earlier periods read for growth, burst and Porter's score


@dataclass(frozen=True)
class SignalParams:
    """Knobs of signals and of the one ranked list, recorded with every run."""

    enabled: bool = True
    # Rising terms considered per period (best score first) and term signals kept.
    max_terms: int = 200
    max_signals: int = 30
    # A rising term joins a better one's signal when the cosine of their document sets
    # |D(a) & D(b)| / sqrt(|D(a)| |D(b)|) reaches merge_overlap, or their embeddings' cosine
    # merge_cosine.
    merge_overlap: float = 0.6
    merge_cosine: float = 0.85
    # A signal continues an earlier one holding at least this share of its terms.
    continue_overlap: float = 0.5
    weight_growth: float = 1.0
    weight_burst: float = 0.5
    weight_novelty: float = 1.0
    weight_spread: float = 0.25
    weight_porter: float = 0.25
    # Share of growth's part kept by a term present in every earlier period read.
    common_growth: float = 0.25
    # Multiplies term signals' scores against topics' high_potential (same formula).
    term_weight: float = 1.0
    max_doc_ids: int = 2000


@dataclass(frozen=True)
class TermInput:
    """What the signals stage needs from the store and the period's texts."""

    terms: PeriodTerms
    measures: TermMeasures
    scores: NDArray[np.float64]
    candidates: NDArray[np.int64]  # indices of rising terms, best score first
    first_seen: dict[str, dict[str, str]]
    states: Sequence[SignalState]
    score_params: TermScoreParams = field(default_factory=TermScoreParams)


def term_scores(terms: PeriodTerms, m: TermMeasures, params: SignalParams) -> NDArray[np.float64]:
    """high_potential's formula for terms: growth x ln(1 + n), burst, novelty, spread, Porter;
    novelty is the term's rarity (first seen: 1), and growth counts in full only for a rare
    term: a word present in every earlier period keeps `common_growth` of it (everyday words
    swing as much as new ones in small periods; an emergence is new or was rare)."""
    spread = np.asarray(
        [len(k) - 1 + len(lang) - 1 for k, lang in zip(terms.kinds, terms.languages, strict=True)],
        np.float64,
    )
    porter = np.nan_to_num(m.porter_es, nan=0.0)
    rare = np.maximum(m.rarity, m.novel.astype(np.float64))
    damp = params.common_growth + (1 - params.common_growth) * rare
    return np.asarray(
        params.weight_growth * np.maximum(m.growth, 0) * np.log1p(m.documents) * damp
        + params.weight_burst * np.log1p(m.burst_weight)
        + params.weight_novelty * rare
        + params.weight_spread * spread
        + params.weight_porter * np.log1p(np.maximum(porter, 0))
    )


def read_term_input(
    con: duckdb.DuckDBPyConnection,
    granularity: str,
    docs: Sequence[Document],
    earlier: Sequence[str],
    totals: dict[str, int],
    term_params: TermParams,
    score_params: TermScoreParams,
    params: SignalParams,
    user_terms: tuple[str, ...],
    terms: PeriodTerms | None = None,
) -> TermInput:
    """The period's terms, their history and measures, and the earlier signals.

    `terms`, when given, are `period_terms` of these documents already extracted (on a
    worker); they need no history, so only what follows runs on the driver.
    """
    if terms is None:
        terms = period_terms(docs, term_params, user_terms)
    history = load_term_history(con, granularity, terms.terms, earlier, totals, SERIES_LENGTH)
    measures = term_measures(terms, history, len(docs), score_params)
    scores = term_scores(terms, measures, params)
    rising = np.flatnonzero(measures.rising)
    order = rising[np.lexsort((rising, -scores[rising]))][: params.max_terms]
    names = [terms.terms[i] for i in order]
    return TermInput(
        terms,
        measures,
        scores,
        order.astype(np.int64),
        first_seen(con, granularity, names),
        load_signal_states(con, granularity),
        score_params,
    )


def term_rows(terms: PeriodTerms, n_docs: int) -> TermRows:
    """The period's `term_periods` rows."""
    return TermRows(
        terms.terms,
        terms.labels,
        terms.documents.tolist(),
        [round(x / max(n_docs, 1), 6) for x in terms.documents.tolist()],
        terms.sources.tolist(),
        terms.outlets.tolist(),
        terms.kinds,
        terms.languages,
    )


def group_terms(
    terms: PeriodTerms, candidates: NDArray[np.int64], encoder: Encoder | None, params: SignalParams
) -> list[list[int]]:
    """Candidate terms in groups, each led by its best term, groups in the order of their
    leads. Best first, a term joins the first group whose lead it is linked to (cosine of
    their document sets at least `merge_overlap`, or of their labels' embeddings at least
    `merge_cosine`), else leads a new group: no chains of loosely related words."""
    m = len(candidates)
    if m == 0:
        return []
    columns = terms.matrix[:, candidates].tocsc().astype(np.float64)
    inter = (columns.T @ columns).toarray()
    df = np.sqrt(np.diag(inter).copy())
    linked = inter / np.maximum(np.outer(df, df), 1.0) >= params.merge_overlap
    chinese = np.asarray([bool(_CJK.search(terms.labels[i])) for i in candidates])
    if encoder is not None and params.merge_cosine <= 1.0 and chinese.any() and not chinese.all():
        # Within one language shared documents link synonyms well enough; the encoder is
        # asked only where a Chinese and an English term may mean the same thing.
        vectors = encoder.encode([terms.labels[i] for i in candidates])
        unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        across = chinese[:, None] != chinese[None, :]
        linked |= ((unit @ unit.T) >= params.merge_cosine) & across
    leads: list[int] = []
    groups: dict[int, list[int]] = {}
    for position in range(m):
        home = next((lead for lead in leads if linked[position, lead]), None)
        if home is None:
            leads.append(position)
            home = position
        groups.setdefault(home, []).append(int(candidates[position]))
    return [groups[lead] for lead in leads]


def build_signals(
    period: str,
    docs: Sequence[Document],
    vectors: NDArray[np.float32],
    term_input: TermInput,
    topics: Sequence[TopicPeriodRow],
    doc_topic: Sequence[str | None],
    tracks: TrackVectors,
    encoder: Encoder | None,
    direction_threshold: float,
    direction_margin: float,
    params: SignalParams,
) -> SignalWrite:
    """The period's term rows and its one ranked list of term and topic signals."""
    ti = term_input
    groups = group_terms(ti.terms, ti.candidates, encoder, params)[: params.max_signals]
    term_signals = [
        _term_signal(
            period,
            docs,
            vectors,
            ti,
            group,
            doc_topic,
            tracks,
            direction_threshold,
            direction_margin,
            params,
        )
        for group in groups
    ]
    term_signals = _continue_ids(period, term_signals, ti.states, params)
    ranked = _rank([*term_signals, *(_topic_signal(t) for t in topics)])
    return SignalWrite(term_rows(ti.terms, len(docs)), ranked)


def _term_signal(
    period: str,
    docs: Sequence[Document],
    vectors: NDArray[np.float32],
    ti: TermInput,
    group: list[int],
    doc_topic: Sequence[str | None],
    tracks: TrackVectors,
    threshold: float,
    margin: float,
    params: SignalParams,
) -> SignalRow:
    terms, m = ti.terms, ti.measures
    lead = group[0]
    rows = np.unique(terms.matrix[:, group].tocsc().indices)
    names = tuple(terms.labels[i] for i in group)
    centroid = vectors[rows].mean(axis=0) if len(rows) else np.zeros(vectors.shape[1])
    # The documents' vectors, so the classifier's direction is their mean, as for topics.
    match = map_direction(
        centroid.astype(np.float32), tracks, threshold, margin, members=vectors[rows]
    )
    holders = Counter(t for t in (doc_topic[int(r)] for r in rows) if t is not None)
    flagged = bool(m.rising[lead])
    strong = flagged and bool(m.burst[lead] or m.novel[lead])
    seen = _first_seen(
        [terms.terms[i] for i in group], ti.first_seen, period, [docs[int(r)] for r in rows]
    )
    reasons = term_reasons(lead, terms, m, ti.score_params)
    if len(names) > 1:
        reasons += (f"with {', '.join(repr(n) for n in names[1:6])}",)
    if seen:
        reasons += (
            "first seen: "
            + ", ".join(
                f"{k} {v}" for k, v in sorted(seen.items(), key=lambda item: (item[1], item[0]))
            ),
        )
    return SignalRow(
        signal_id="",
        kind="term",
        rank=0,
        score=round(float(ti.scores[lead]) * params.term_weight, 6),
        signal_class="strong" if strong else "weak" if flagged else "noise",
        label=" · ".join(names[:3]),
        terms=tuple(terms.terms[i] for i in group),
        keywords_en=tuple(n for n in names if not _CJK.search(n)),
        keywords_zh=tuple(n for n in names if _CJK.search(n)),
        n_docs=len(rows),
        share=round(len(rows) / max(len(docs), 1), 6),
        growth=round(float(m.growth[lead]), 6),
        topic_ids=tuple(t for t, _ in sorted(holders.items(), key=lambda x: (-x[1], x[0]))[:5]),
        direction=match.direction,
        track=match.track,
        first_seen=seen,
        metrics={
            "documents": int(m.documents[lead]),
            "expected": round(float(m.expected[lead]), 4),
            "burst": bool(m.burst[lead]),
            "burst_weight": float(m.burst_weight[lead]),
            "first_seen": bool(m.first_seen[lead]),
            "returned": bool(m.returned[lead]),
            "persistence": int(m.persistence[lead]),
            "rarity": round(float(m.rarity[lead]), 4),
            "porter_es": None if math.isnan(m.porter_es[lead]) else float(m.porter_es[lead]),
            "sources": int(terms.sources[lead]),
            "outlets": int(terms.outlets[lead]),
            "kinds": list(terms.kinds[lead]),
            "languages": list(terms.languages[lead]),
            "direction_margin": match.margin,
        },
        reasons=reasons,
        doc_ids=tuple(docs[int(r)].doc_id for r in rows[: params.max_doc_ids]),
    )


def _first_seen(
    names: Sequence[str], earlier: dict[str, dict[str, str]], period: str, docs: Sequence[Document]
) -> dict[str, str]:
    """First period per kind and language of any of the terms, this period included."""
    seen: dict[str, str] = {}
    for key in {f"kind:{d.kind}" for d in docs} | {f"lang:{d.lang}" for d in docs}:
        seen[key] = period
    for name in names:
        for key, first in earlier.get(name, {}).items():
            if key not in seen or first < seen[key]:
                seen[key] = first
    return dict(sorted(seen.items()))


def _continue_ids(
    period: str, signals: list[SignalRow], states: Sequence[SignalState], params: SignalParams
) -> list[SignalRow]:
    """Stable ids: a signal continues the earlier signal that holds most of its terms (one
    to one, best pairs first); the others are born as `<period>/t<rank>`."""
    # Only earlier signals sharing a term can be continued: an index from term to them, so
    # each period costs its own terms, not the whole history of signals.
    holding: dict[str, list[int]] = {}
    for j, state in enumerate(states):
        for term in set(state.terms):
            holding.setdefault(term, []).append(j)
    pairs = []
    for i, signal in enumerate(signals):
        mine = set(signal.terms)
        shared_with = Counter(j for term in mine for j in holding.get(term, ()))
        for j, shared in sorted(shared_with.items()):
            if shared / len(mine) >= params.continue_overlap or signal.terms[0] in states[j].terms:
                pairs.append((-shared / len(mine), i, j))
    taken: dict[int, int] = {}
    used: set[int] = set()
    for _, i, j in sorted(pairs):
        if i not in taken and j not in used:
            taken[i] = j
            used.add(j)
    out, born = [], 0
    for i, signal in enumerate(signals):
        if i in taken:
            state = states[taken[i]]
            out.append(
                _with(signal, state.signal_id, "continued", state.signal_id, state.born_period)
            )
        else:
            out.append(_with(signal, f"{period}/t{born:02d}", "born", None, period))
            born += 1
    return out


def _with(
    signal: SignalRow, signal_id: str, event: str, parent: str | None, born: str
) -> SignalRow:
    from dataclasses import replace

    return replace(
        signal, signal_id=signal_id, event=event, parent_signal_id=parent, born_period=born
    )


def _topic_signal(topic: TopicPeriodRow) -> SignalRow:
    words = topic.keywords
    return SignalRow(
        signal_id=topic.topic_id,
        kind="topic",
        rank=0,
        score=round(topic.high_potential, 6),
        signal_class=topic.signal_class,
        label=topic.label,
        terms=tuple(words[:5]),
        keywords_en=tuple(w for w in words if not _CJK.search(w)),
        keywords_zh=tuple(w for w in words if _CJK.search(w)),
        n_docs=topic.n_docs,
        share=topic.share,
        growth=topic.growth,
        topic_ids=(topic.topic_id,),
        direction=str(topic.metrics.get("direction", "unmapped")),
        track=None,
        first_seen={},
        metrics={"lineage_event": topic.metrics.get("lineage_event")},
        reasons=topic.reasons,
        doc_ids=(),
        event="continued" if not topic.is_new else "born",
        parent_signal_id=None,
        born_period=topic.born_period,
    )


def _rank(items: Sequence[SignalRow]) -> list[SignalRow]:
    """Flagged items first (nothing unflagged outranks a flag), then by score, then id."""
    from dataclasses import replace

    order = sorted(items, key=lambda s: (s.signal_class == "noise", -s.score, s.kind, s.signal_id))
    return [replace(item, rank=rank) for rank, item in enumerate(order, start=1)]


def with_watches(
    write: SignalWrite, rows: Sequence[WatchRow], phrases: dict[str, str]
) -> SignalWrite:
    """The ranked list with each watched phrase that fired (weak or strong) in it."""
    fired = [
        SignalRow(
            signal_id=r.watch_id,
            kind="watch",
            rank=0,
            score=round(r.high_potential, 6),
            signal_class=r.signal_class,
            label=phrases.get(r.watch_id, r.watch_id),
            terms=(phrases.get(r.watch_id, r.watch_id),),
            keywords_en=(),
            keywords_zh=(),
            n_docs=r.n_docs,
            share=r.share,
            growth=r.growth,
            topic_ids=(),
            direction="unmapped",
            track=None,
            first_seen={},
            metrics={},
            reasons=r.reasons,
            doc_ids=r.doc_ids,
            event="continued",
        )
        for r in rows
        if r.signal_class != "noise"
    ]
    if not fired:
        return write
    return SignalWrite(write.terms, _rank([*write.signals, *fired]))
