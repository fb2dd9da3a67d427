"""Emergence scores of each topic in one period, from its history; pure functions.

Definitions (also in docs/scores.md):
- share = n_docs / documents in the period;
- growth = ln((share + s0) / (mean share over the previous `window` periods + s0)),
  s0 = 1 / documents in the period (one document's worth), absent periods count as 0;
- popularity (BERTrend): p_t = p_prev * exp(-decay * gap^power) + n_docs, gap in periods;
- signal class: noise below the weak percentile of this period's popularities, strong above
  the strong percentile when growth >= 0, weak in between when growth > 0, else noise;
- high_potential = max(growth, 0) * ln(1 + n_docs) + novelty_weight * novelty (first 2 periods).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.records import EmergenceScore, SignalClass


@dataclass(frozen=True)
class ScoreParams:
    """Tunable constants of the scores, recorded with every run."""

    window: int = 3
    decay: float = 0.01
    decay_power: float = 2.0
    weak_percentile: float = 10.0
    strong_percentile: float = 50.0
    novelty_weight: float = 1.0


@dataclass(frozen=True)
class TopicHistory:
    """One topic's counts in earlier periods (period index -> n_docs, share) and its state."""

    topic_id: str
    n_docs: int
    share: float
    previous_shares: Sequence[float]
    previous_popularity: float
    periods_since_seen: int
    age_periods: int
    novelty: float


def growth(share: float, previous_shares: Sequence[float], period_docs: int,
           window: int) -> float:
    """Log ratio of this period's share to the mean of the last `window` periods."""
    s0 = 1.0 / max(period_docs, 1)
    recent = list(previous_shares[-window:])
    recent = [0.0] * (window - len(recent)) + recent
    baseline = sum(recent) / window
    return math.log((share + s0) / (baseline + s0))


def popularity(previous: float, n_docs: int, gap: int, params: ScoreParams) -> float:
    """BERTrend's decayed popularity: the old value fades with the gap, new documents add."""
    return previous * math.exp(-params.decay * gap ** params.decay_power) + n_docs


def classify(pop: float, grow: float, weak_cut: float, strong_cut: float) -> SignalClass:
    """Noise / weak / strong by popularity percentiles, with rising required to flag."""
    if pop > strong_cut and grow >= 0:
        return "strong"
    if weak_cut <= pop <= strong_cut and grow > 0:
        return "weak"
    return "noise"


def score_period(period: str, histories: Sequence[TopicHistory], period_docs: int,
                 params: ScoreParams) -> list[EmergenceScore]:
    """Scores of every topic present in the period, in topic id order."""
    grows = {h.topic_id: growth(h.share, h.previous_shares, period_docs, params.window)
             for h in histories}
    pops = {h.topic_id: popularity(h.previous_popularity, h.n_docs, h.periods_since_seen, params)
            for h in histories}
    values = np.asarray(list(pops.values()) or [0.0])
    weak_cut = float(np.percentile(values, params.weak_percentile))
    strong_cut = float(np.percentile(values, params.strong_percentile))
    scores = []
    for h in sorted(histories, key=lambda item: item.topic_id):
        grow, pop = grows[h.topic_id], pops[h.topic_id]
        signal = classify(pop, grow, weak_cut, strong_cut)
        fresh = params.novelty_weight * h.novelty if h.age_periods < 2 else 0.0
        potential = max(grow, 0.0) * math.log1p(h.n_docs) + fresh
        scores.append(EmergenceScore(
            topic_id=h.topic_id, period=period, n_docs=h.n_docs, share=h.share,
            growth=round(grow, 6), popularity=round(pop, 6), signal_class=signal,
            high_potential=round(potential, 6),
            reasons=_reasons(h, grow, pop, signal, weak_cut, strong_cut, params),
        ))
    return scores


def _reasons(h: TopicHistory, grow: float, pop: float, signal: SignalClass, weak_cut: float,
             strong_cut: float, params: ScoreParams) -> tuple[str, ...]:
    reasons = []
    if grow > 0:
        reasons.append(f"share {h.share:.1%} is e^{grow:.2f} = {math.exp(grow):.1f}x the mean of "
                       f"the previous {params.window} periods")
    if signal == "strong":
        reasons.append(f"popularity {pop:.1f} above the p{params.strong_percentile:g} "
                       f"cut {strong_cut:.1f}")
    elif signal == "weak":
        reasons.append(f"popularity {pop:.1f} between p{params.weak_percentile:g} "
                       f"({weak_cut:.1f}) and p{params.strong_percentile:g} ({strong_cut:.1f}), "
                       "rising")
    if h.age_periods == 0:
        reasons.append(f"new topic, novelty {h.novelty:.2f} (1 - best cosine to earlier topics)")
    return tuple(reasons)
