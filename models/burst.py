"""Kleinberg's two-state burst detection on a topic's share of each period (pure).

Kleinberg (2002), "Bursty and hierarchical structure in streams", the enumerated (batched)
variant: each period t has d_t documents of which r_t are the topic's. State 0 emits at the
base rate p0 = sum(r) / sum(d), state 1 at p1 = s * p0. The cost of a period in a state is
the negative binomial log-likelihood; entering state 1 costs gamma * ln(T). The cheapest state
sequence (Viterbi) marks bursts; the weight of a burst is the cost saved by being in state 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Burst:
    """Whether the last period is inside a burst, and how strong that burst is."""

    active: bool
    weight: float
    started_index: int | None


def _cost(rate: float, hits: int, total: int) -> float:
    rate = min(max(rate, 1e-9), 1 - 1e-9)
    return -(hits * math.log(rate) + (total - hits) * math.log(1 - rate))


def burst_states(
    hits: Sequence[int], totals: Sequence[int], s: float = 2.0, gamma: float = 1.0
) -> list[int]:
    """The cheapest 0/1 state sequence for the series."""
    n = len(hits)
    if n == 0 or sum(totals) == 0:
        return [0] * n
    p0 = sum(hits) / sum(totals)
    rates = (p0, min(s * p0, 0.9999))
    up = gamma * math.log(max(n, 2))
    best = [0.0, math.inf]
    back: list[tuple[int, int]] = []
    for r, d in zip(hits, totals, strict=True):
        emit = [_cost(rate, r, d) for rate in rates]
        stay0, from1 = best[0], best[1]
        to0 = (stay0, 0) if stay0 <= from1 else (from1, 1)
        to1 = (best[1], 1) if best[1] <= best[0] + up else (best[0] + up, 0)
        back.append((to0[1], to1[1]))
        best = [to0[0] + emit[0], to1[0] + emit[1]]
    state = 0 if best[0] <= best[1] else 1
    states = [state]
    for step in range(n - 1, 0, -1):
        state = back[step][state]
        states.append(state)
    return states[::-1]


def last_burst(
    hits: Sequence[int], totals: Sequence[int], s: float = 2.0, gamma: float = 1.0
) -> Burst:
    """The burst that contains the last period, if any, with its weight."""
    states = burst_states(hits, totals, s, gamma)
    if not states or states[-1] == 0:
        return Burst(False, 0.0, None)
    start = len(states) - 1
    while start > 0 and states[start - 1] == 1:
        start -= 1
    p0 = sum(hits) / max(sum(totals), 1)
    p1 = min(s * p0, 0.9999)
    weight = sum(
        _cost(p0, hits[t], totals[t]) - _cost(p1, hits[t], totals[t])
        for t in range(start, len(states))
    )
    return Burst(True, round(weight, 6), start)
