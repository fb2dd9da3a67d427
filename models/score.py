"""Emergence scores of each topic in one period, from its history; pure functions.

Every measure is defined in docs/scores.md; in short, for a topic in period t:
- share = n_docs / documents in the period;
- growth = ln((share + s0) / (mean share over the previous `window` periods + s0)),
  s0 = 1 / documents in the period, absent periods counting as 0;
- popularity (BERTrend): p_t = p_prev * exp(-decay * gap^power) + n_docs, gap in periods;
- signal class, by emergence evidence and never by size: the evidence is growth of at least
  `flag_growth` (ln 2), an active burst, and novelty; weak with one, strong with two or more,
  noise with none, with growth <= 0 or under `min_docs_to_flag` documents;
- burst: Kleinberg's two-state automaton on the topic's share series (models/burst.py);
- porter_es: a Porter-style emergence score on the last 10 periods (coarse periods only);
- high_potential: the weighted sum of the measures that fired (weights are settings).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from models.burst import last_burst
from pipeline.records import EmergenceScore, SignalClass


@dataclass(frozen=True)
class ScoreParams:
    """Tunable constants of the scores, recorded with every run."""

    window: int = 3
    decay: float = 0.01
    decay_power: float = 2.0
    weak_percentile: float = 10.0
    strong_percentile: float = 50.0
    burst_s: float = 2.0
    burst_gamma: float = 1.0
    weight_growth: float = 1.0
    weight_novelty: float = 1.0
    weight_burst: float = 0.5
    weight_porter: float = 0.25
    weight_cross_source: float = 0.25
    # A new topic counts as novel only when its best cosine to every earlier topic is at most
    # 1 - novelty_min: 0.4 matches the tracker's 0.6, so a fragment that could have continued
    # an earlier topic (a split) earns no novelty bonus.
    novelty_min: float = 0.4
    min_docs_to_flag: int = 3
    porter: bool = False
    # Growth from which a rise counts as evidence (ln 2: share twice the recent mean).
    flag_growth: float = math.log(2.0)


@dataclass(frozen=True)
class TopicHistory:
    """One topic's state before this period and its size in this period.

    `series_hits`/`series_totals` are the topic's documents and all documents of the last
    periods, oldest first, ending with this period.
    """

    topic_id: str
    n_docs: int
    share: float
    previous_shares: Sequence[float]
    previous_popularity: float
    periods_since_seen: int
    age_periods: int
    novelty: float
    series_hits: Sequence[int] = ()
    series_totals: Sequence[int] = ()
    kinds: int = 1
    periods_present: int = 0
    extra: dict[str, float] = field(default_factory=dict)


def growth(share: float, previous_shares: Sequence[float], period_docs: int, window: int) -> float:
    """Log ratio of this period's share to the mean of the last `window` periods."""
    s0 = 1.0 / max(period_docs, 1)
    recent = list(previous_shares[-window:])
    recent = [0.0] * (window - len(recent)) + recent
    baseline = sum(recent) / window
    return math.log((share + s0) / (baseline + s0))


def popularity(previous: float, n_docs: int, gap: int, params: ScoreParams) -> float:
    """BERTrend's decayed popularity: the old value fades with the gap, new documents add."""
    return previous * math.exp(-params.decay * gap**params.decay_power) + n_docs


def classify(grow: float, evidence: int, n_docs: int, params: ScoreParams) -> SignalClass:
    """Weak with one piece of emergence evidence, strong with two or more; size alone is
    none (a large flat topic is noise, a small topic at 4x growth with a burst is strong)."""
    if n_docs < params.min_docs_to_flag or grow <= 0 or evidence == 0:
        return "noise"
    return "strong" if evidence >= 2 else "weak"


def evidence_of(parts: dict[str, tuple[float, str]], grow: float, params: ScoreParams) -> int:
    """How many of growth (at least `flag_growth`), burst and novelty fired."""
    return int(grow >= params.flag_growth) + int("burst" in parts) + int("novelty" in parts)


def porter_es(hits: Sequence[int], totals: Sequence[int]) -> float | None:
    """2 x active trend + recent trend + slope over the last 10 periods (needs 7).

    Counts are rescaled to the last period's volume (share x documents now) so that a
    growing corpus does not look like a growing topic; each trend is divided by the square
    root of its counts, a Poisson-style z.
    """
    if len(hits) < 7 or not totals[-1]:
        return None
    scaled = [
        h / t * totals[-1] if t else 0.0 for h, t in zip(hits[-10:], totals[-10:], strict=True)
    ]
    r = [0.0] * (10 - len(scaled)) + scaled

    def z(later: Sequence[float], earlier: Sequence[float]) -> float:
        return (sum(later) - sum(earlier)) / math.sqrt(sum(later) + sum(earlier) + 1.0)

    active = z(r[7:10], r[4:7])
    recent = z(r[8:10], r[6:8])
    slope = (r[9] - r[6]) / 3 / math.sqrt(sum(r[6:10]) / 4 + 1.0)
    return round(2 * active + recent + slope, 6)


def popularity_cuts(popularities: Sequence[float], params: ScoreParams) -> tuple[float, float]:
    """The weak and strong popularity cuts of a period (its percentiles)."""
    values = np.asarray(list(popularities) or [0.0])
    return (
        float(np.percentile(values, params.weak_percentile)),
        float(np.percentile(values, params.strong_percentile)),
    )


def score_period(
    period: str,
    histories: Sequence[TopicHistory],
    period_docs: int,
    params: ScoreParams,
    cuts: tuple[float, float] | None = None,
) -> list[EmergenceScore]:
    """Scores of every topic present in the period, in topic id order.

    The popularity cuts (these topics' percentiles unless `cuts` are given) only describe
    size in the reasons: classes come from emergence evidence (`classify`).
    """
    grows = {
        h.topic_id: growth(h.share, h.previous_shares, period_docs, params.window)
        for h in histories
    }
    pops = {
        h.topic_id: popularity(h.previous_popularity, h.n_docs, h.periods_since_seen, params)
        for h in histories
    }
    _, strong_cut = cuts or popularity_cuts(list(pops.values()), params)
    scores = []
    for h in sorted(histories, key=lambda item: item.topic_id):
        grow, pop = grows[h.topic_id], pops[h.topic_id]
        parts = _potential_parts(h, grow, params)
        evidence = evidence_of(parts, grow, params)
        signal = classify(grow, evidence, h.n_docs, params)
        reasons = _class_reason(pop, signal, evidence, strong_cut, params)
        reasons += tuple(text for _, text in parts.values())
        scores.append(
            EmergenceScore(
                topic_id=h.topic_id,
                period=period,
                n_docs=h.n_docs,
                share=h.share,
                growth=round(grow, 6),
                popularity=round(pop, 6),
                signal_class=signal,
                high_potential=round(sum(value for value, _ in parts.values()), 6),
                reasons=reasons,
            )
        )
    return scores


def measures(h: TopicHistory, params: ScoreParams) -> dict[str, float | bool | None]:
    """The per-topic measures stored in `topic_periods.metrics`."""
    burst = last_burst(h.series_hits, h.series_totals, params.burst_s, params.burst_gamma)
    present = h.periods_present + 1
    return {
        "burst": burst.active,
        "burst_weight": burst.weight,
        "porter_es": porter_es(h.series_hits, h.series_totals) if params.porter else None,
        "persistence": round(present / (h.age_periods + 1), 6),
    }


def _potential_parts(
    h: TopicHistory, grow: float, params: ScoreParams
) -> dict[str, tuple[float, str]]:
    """Each measure that fired, its contribution to high_potential and the reason text."""
    parts: dict[str, tuple[float, str]] = {}
    if grow > 0:
        parts["growth"] = (
            params.weight_growth * grow * math.log1p(h.n_docs),
            f"share {h.share:.1%} is {math.exp(grow):.1f}x the mean of the "
            f"previous {params.window} periods (growth {grow:.2f})",
        )
    if h.age_periods < 2 and h.novelty >= params.novelty_min:
        parts["novelty"] = (
            params.weight_novelty * h.novelty,
            f"new topic (age {h.age_periods}), novelty {h.novelty:.2f} "
            "(1 - best cosine to earlier topics)",
        )
    extra = measures(h, params)
    if extra["burst"]:
        weight = float(extra["burst_weight"] or 0.0)
        parts["burst"] = (
            params.weight_burst * math.log1p(weight),
            f"Kleinberg burst active, weight {weight:.1f}",
        )
    porter = extra["porter_es"]
    if isinstance(porter, float) and porter > 0:
        parts["porter"] = (
            params.weight_porter * math.log1p(porter),
            f"Porter-style emergence score {porter:.2f}",
        )
    if h.kinds > 1:
        parts["cross_source"] = (
            params.weight_cross_source * (h.kinds - 1),
            f"seen in {h.kinds} kinds of source",
        )
    return parts


def _class_reason(
    pop: float, signal: SignalClass, evidence: int, strong_cut: float, params: ScoreParams
) -> tuple[str, ...]:
    if signal == "noise":
        return ()
    size = "above" if pop > strong_cut else "below"
    return (
        f"{signal}: {evidence} of growth, burst and novelty fired (popularity {pop:.1f}, "
        f"{size} the period's p{params.strong_percentile:g} {strong_cut:.1f})",
    )
