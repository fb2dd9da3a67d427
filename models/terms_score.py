"""Emergence measures of every candidate term of a period, vectorised over terms (pure).

Defined in docs/scores.md ("Terms"). In short, for a term with n documents in a period of N:
- growth = ln((n + prior) / (expected + prior)), expected = N x the term's mean share over the
  previous `window` periods (absent = 0), prior = `growth_prior` documents: three documents
  after nothing give ln 2, thirty give ln 11;
- burst: Kleinberg's two-state automaton on the share series (as `models/burst.py`, here as
  one Viterbi pass over all terms at once);
- novelty: first seen in this period (after `min_history` processed periods), or back after
  at least `dormancy` periods without it;
- persistence: consecutive periods present, ending with this one;
- rarity: the share of the earlier periods read (up to 9) without the term, Porter's novelty
  criterion (an emerging term is absent or rare in the base period), 1 for a first sighting;
- spread: distinct sources, outlets, kinds and languages this period;
- porter_es: the Porter-style score of `models.score.porter_es` (coarse periods only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from models.terms import PeriodTerms
from pipeline.signal_store import TermHistory

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class TermScoreParams:
    """Knobs of the term measures and of flagging a term, recorded with every run."""

    window: int = 3
    growth_prior: float = 3.0
    min_docs: int = 3
    # A term counts as rising from this growth on (ln 2: twice its expected documents).
    min_growth: float = math.log(2.0)
    min_history: int = 3
    dormancy: int = 4
    burst_s: float = 2.0
    burst_gamma: float = 1.0
    porter: bool = False


@dataclass(frozen=True)
class TermMeasures:
    """One value per term (same order as `PeriodTerms.terms`)."""

    documents: NDArray[np.int64]
    share: FloatArray
    expected: FloatArray
    growth: FloatArray
    burst: NDArray[np.bool_]
    burst_weight: FloatArray
    first_seen: NDArray[np.bool_]
    returned: NDArray[np.bool_]
    persistence: NDArray[np.int64]
    rarity: FloatArray
    porter_es: FloatArray  # nan where not computed
    rising: NDArray[np.bool_]

    @property
    def novel(self) -> NDArray[np.bool_]:
        return self.first_seen | self.returned


def term_measures(
    terms: PeriodTerms, history: TermHistory, n_docs: int, params: TermScoreParams
) -> TermMeasures:
    """Every measure of every term of the period, as arrays."""
    n = terms.documents.astype(np.float64)
    totals = history.totals.astype(np.float64)
    shares = np.divide(history.counts, totals, out=np.zeros(history.counts.shape), where=totals > 0)
    recent = shares[:, -params.window :] if params.window else shares[:, :0]
    baseline = recent.sum(axis=1) / max(params.window, 1)
    expected = baseline * n_docs
    growth = np.log((n + params.growth_prior) / (expected + params.growth_prior))
    hits = np.column_stack([history.counts, terms.documents]).astype(np.float64)
    series_totals = np.append(totals, float(n_docs))
    burst, weight = last_bursts(hits, series_totals, params.burst_s, params.burst_gamma)
    warm = history.n_history >= params.min_history
    first = (history.periods_present == 0) & warm
    back = (history.last_seen_gap >= params.dormancy) & warm
    present = np.column_stack([history.counts > 0, np.ones(len(n), bool)])
    trailing_absent = np.argmax(~present[:, ::-1], axis=1)
    persistence = np.where(present.all(axis=1), present.shape[1], trailing_absent)
    read = history.counts.shape[1]
    rarity = (history.counts == 0).sum(axis=1) / read if read and warm else np.zeros(len(n))
    porter = porter_scores(hits, series_totals) if params.porter else np.full(len(n), np.nan)
    rising = (terms.documents >= params.min_docs) & (growth >= params.min_growth) & warm
    return TermMeasures(
        documents=terms.documents,
        share=n / max(n_docs, 1),
        expected=expected,
        growth=growth,
        burst=burst & warm,
        burst_weight=np.where(burst & warm, weight, 0.0),
        first_seen=first,
        returned=back,
        persistence=persistence.astype(np.int64),
        rarity=np.asarray(rarity, np.float64),
        porter_es=porter,
        rising=rising,
    )


def _cost(rate: FloatArray, hits: FloatArray, total: FloatArray) -> FloatArray:
    rate = np.clip(rate, 1e-9, 1 - 1e-9)
    return np.asarray(-(hits * np.log(rate) + (total - hits) * np.log1p(-rate)))


def last_bursts(
    hits: FloatArray, totals: FloatArray, s: float, gamma: float
) -> tuple[NDArray[np.bool_], FloatArray]:
    """Kleinberg's two-state burst of each row's last period, and the burst's weight.

    The same automaton as `models.burst.last_burst`, one Viterbi pass over all rows at once:
    p0 = sum(hits) / sum(totals) per row, p1 = s x p0, entering the burst costs
    gamma x ln(T); weight = the cost saved by the burst state over the run that ends now.
    """
    n_rows, n_steps = hits.shape
    if n_rows == 0 or n_steps == 0 or totals.sum() == 0:
        return np.zeros(n_rows, bool), np.zeros(n_rows)
    p0 = hits.sum(axis=1) / totals.sum()
    p1 = np.minimum(s * p0, 0.9999)
    up = gamma * math.log(max(n_steps, 2))
    cost0 = _cost(p0[:, None], hits, totals[None, :])
    cost1 = _cost(p1[:, None], hits, totals[None, :])
    best0, best1 = np.zeros(n_rows), np.full(n_rows, np.inf)
    back = np.zeros((n_rows, n_steps, 2), np.int8)
    for t in range(n_steps):
        from1_to0 = best1 < best0
        to0 = np.where(from1_to0, best1, best0)
        stay1 = best1 <= best0 + up
        to1 = np.where(stay1, best1, best0 + up)
        back[:, t, 0] = from1_to0
        back[:, t, 1] = stay1
        best0, best1 = to0 + cost0[:, t], to1 + cost1[:, t]
    active = best1 < best0
    # The run of burst states that ends now: walk back while the state stays 1.
    weight = np.zeros(n_rows)
    inside = active.copy()
    for t in range(n_steps - 1, -1, -1):
        weight += np.where(inside, cost0[:, t] - cost1[:, t], 0.0)
        inside = inside & (back[:, t, 1] == 1) if t > 0 else inside
    return active, np.round(weight, 6)


def porter_scores(hits: FloatArray, totals: FloatArray) -> FloatArray:
    """`models.score.porter_es` for every row (nan with fewer than 7 periods)."""
    n_rows, n_steps = hits.shape
    if n_steps < 7 or not totals[-1]:
        return np.full(n_rows, np.nan)
    scaled = (
        np.divide(
            hits[:, -10:],
            totals[-10:],
            out=np.zeros((n_rows, min(n_steps, 10))),
            where=totals[-10:] > 0,
        )
        * totals[-1]
    )
    r = np.column_stack([np.zeros((n_rows, 10 - scaled.shape[1])), scaled])

    def z(later: FloatArray, earlier: FloatArray) -> FloatArray:
        a, b = later.sum(axis=1), earlier.sum(axis=1)
        return np.asarray((a - b) / np.sqrt(a + b + 1.0))

    active = z(r[:, 7:10], r[:, 4:7])
    recent = z(r[:, 8:10], r[:, 6:8])
    slope = (r[:, 9] - r[:, 6]) / 3 / np.sqrt(r[:, 6:10].sum(axis=1) / 4 + 1.0)
    return np.asarray(np.round(2 * active + recent + slope, 6))


def term_reasons(
    i: int, terms: PeriodTerms, m: TermMeasures, params: TermScoreParams
) -> tuple[str, ...]:
    """One sentence per measure of term i that fired, with its values."""
    reasons: list[str] = []
    n = int(m.documents[i])
    if m.growth[i] > 0:
        reasons.append(
            f"'{terms.labels[i]}' in {n} documents ({m.share[i]:.1%}) against "
            f"{m.expected[i]:.1f} expected from the previous {params.window} periods "
            f"(growth {m.growth[i]:.2f}, {math.exp(m.growth[i]):.1f}x smoothed)"
        )
    if m.burst[i]:
        reasons.append(f"Kleinberg burst active, weight {m.burst_weight[i]:.1f}")
    if m.first_seen[i]:
        reasons.append("first seen in this period")
    elif m.returned[i]:
        reasons.append(f"back after at least {params.dormancy} periods without it")
    if m.rarity[i] > 0 and not m.first_seen[i]:
        reasons.append(f"absent from {m.rarity[i]:.0%} of the earlier periods read")
    if m.persistence[i] > 1:
        reasons.append(f"present {int(m.persistence[i])} periods in a row")
    spread = [f"{int(terms.sources[i])} sources", f"{int(terms.outlets[i])} outlets"]
    if len(terms.kinds[i]) > 1 or len(terms.languages[i]) > 1:
        spread += [
            f"kinds {', '.join(terms.kinds[i])}",
            f"languages {', '.join(terms.languages[i])}",
        ]
    reasons.append("spread: " + ", ".join(spread))
    if not np.isnan(m.porter_es[i]) and m.porter_es[i] > 0:
        reasons.append(f"Porter-style emergence score {m.porter_es[i]:.2f}")
    return tuple(reasons)
