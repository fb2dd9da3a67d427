"""Watch topics: an analyst's phrase followed through every period by similarity (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from models.keywords import STOP_WORDS
from models.score import ScoreParams, TopicHistory, score_period
from pipeline.periods import Period
from pipeline.records import Document
from pipeline.watch_store import WatchRow, WatchState

_WORD = re.compile(r"[a-z0-9]+|[\u3400-\u9fff]+")


def phrase_stems(phrase: str) -> tuple[str, ...]:
    """Content words of a phrase cut to a stem (batteries -> batter); CJK runs kept whole."""
    stems = []
    for word in _WORD.findall(phrase.lower()):
        if word in STOP_WORDS:
            continue
        stems.append(word[: max(4, len(word) - 3)] if len(word) > 4 and word.isascii() else word)
    return tuple(stems)


def lexical_match(stems: Sequence[str], text: str) -> bool:
    """Every stem of the phrase occurs in the text (case-insensitive)."""
    lowered = text.lower()
    return bool(stems) and all(stem in lowered for stem in stems)


def score_watches(
    period: Period,
    docs: Sequence[Document],
    vectors: NDArray[np.float32],
    watches: Sequence[WatchState],
    phrase_vectors: NDArray[np.float32],
    history_periods: Sequence[Period],
    history_totals: Sequence[int],
    cuts: tuple[float, float],
    params: ScoreParams,
) -> list[WatchRow]:
    """Each watch's matching documents scored like a topic.

    A document matches when it contains every content word of the phrase, or when its
    cosine to the phrase reaches the watch's threshold: a short phrase sits far from long
    texts in embedding space (measured: "coronavirus pandemic" vs a headline on the U.S.
    coronavirus death toll, 0.23), so similarity alone misses the obvious matches.
    """
    if not watches:
        return []
    sims = vectors @ phrase_vectors.T if len(docs) else np.zeros((0, len(watches)))
    series = list(history_periods)[-9:]
    histories, matched = [], {}
    for column, state in enumerate(watches):
        stems = phrase_stems(state.watch.phrase)
        hits = [
            i
            for i in range(len(docs))
            if sims[i, column] >= state.watch.threshold or lexical_match(stems, docs[i].full_text)
        ]
        order = sorted(hits, key=lambda i: (-float(sims[i, column]), docs[int(i)].doc_id))
        matched[state.watch.watch_id] = tuple(docs[int(i)].doc_id for i in order)
        n_hits = len(order)
        histories.append(
            TopicHistory(
                topic_id=state.watch.watch_id,
                n_docs=n_hits,
                share=n_hits / max(len(docs), 1),
                previous_shares=[state.shares.get(p, 0.0) for p in history_periods],
                previous_popularity=state.popularity,
                periods_since_seen=period.steps_after(state.last_period)
                if state.last_period
                else 1,
                age_periods=2,
                novelty=0.0,
                series_hits=[*(state.counts.get(p, 0) for p in series), n_hits],
                series_totals=[*list(history_totals)[-len(series) :], len(docs)]
                if series
                else [len(docs)],
                kinds=len({docs[int(i)].kind for i in order}) or 1,
            )
        )
    scores = score_period(period.label, histories, len(docs), params, cuts=cuts)
    return [
        WatchRow(
            s.topic_id,
            s.n_docs,
            round(s.share, 6),
            s.growth,
            s.popularity,
            s.high_potential,
            s.signal_class,
            s.reasons,
            matched[s.topic_id][:50],
        )
        for s in scores
    ]
