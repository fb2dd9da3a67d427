"""Trailing-window clustering for thin periods (docs/clustering.md, "Thin periods").

A week of a digest holds a few dozen documents: HDBSCAN finds two or three broad clusters in
it, and nothing new is ever a cluster of its own. Clustering the period together with the
documents of the periods just before it gives HDBSCAN enough density to separate themes; the
period then keeps the window clusters that hold enough of its own documents, and everything a
topic is measured by (its documents, share, centroid, keywords) stays this period's alone.
The earlier documents only shape the clusters: their own periods' assignments do not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import NDArray

from models.cluster import Labels
from pipeline.periods import Period


@dataclass(frozen=True)
class WindowParams:
    """When and how far back a period is clustered with its predecessors."""

    # Periods clustered together, this one included; 1 turns the window off.
    periods: int = 1
    # Only periods with fewer documents than this are thin enough to need it.
    below_docs: int = 300
    # A window cluster becomes a topic of this period only with this many of its documents.
    min_period_docs: int = 3

    def applies(self, n_docs: int) -> bool:
        return self.periods > 1 and 0 < n_docs < self.below_docs


def window_start(period: Period, periods: int) -> date:
    """First day of the window of `periods` periods that ends with `period`."""
    return period.shifted(1 - periods).start


def with_context(
    context: NDArray[np.float32] | None, vectors: NDArray[np.float32]
) -> NDArray[np.float32]:
    """The window's vectors: the earlier periods' documents first, then this period's."""
    if context is None or not len(context):
        return vectors
    return np.concatenate([context.astype(np.float32), vectors])


def period_part(
    labels: Labels, strength: NDArray[np.floating], n_context: int, min_period_docs: int
) -> tuple[Labels, NDArray[np.float64]]:
    """This period's rows of the window's labels; clusters with too few of them are outliers.

    Cluster numbers are left as they are (the caller renumbers them canonically).
    """
    mine = labels[n_context:].copy()
    power = np.asarray(strength[n_context:], dtype=np.float64).copy()
    clusters, counts = np.unique(mine[mine >= 0], return_counts=True)
    thin = clusters[counts < min_period_docs]
    dropped = np.isin(mine, thin)
    mine[dropped] = -1
    power[dropped] = 0.0
    return mine, power
