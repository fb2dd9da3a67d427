"""A second, finer clustering pass over what the first pass left as outliers.

The first pass sizes clusters to the period (sqrt(n)/4 documents at least), which keeps big
periods readable but cannot hold a burst of five items among five hundred: in the Chinese
weekly by quarter, all five NFT items of 2021-Q4 stayed outliers. Clustering the outliers again
with a small minimum size gives such bursts a topic of their own before the remaining outliers
are re-attached; documents already in a topic are never moved.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from models.cluster import ClusterParams, HdbscanClusterer, Labels, centroids


def cluster_outliers(vectors: NDArray[np.float32], labels: Labels, params: ClusterParams,
                     min_size: int, min_cohesion: float, dims: int) -> Labels:
    """Labels with the outliers' own clusters added after the first pass's (numbered on).

    A new cluster is kept only when its documents' mean cosine to their centroid is at least
    `min_cohesion`: a handful of unrelated leftovers must not pass for a burst.
    """
    outliers = np.flatnonzero(labels < 0)
    if min_size <= 0 or len(outliers) < 2 * min_size:
        return labels
    finer = replace(params, min_cluster_size=min_size, min_samples=min_size, selection="eom",
                    reduce_dims=dims)
    sub = HdbscanClusterer(finer).fit_predict(vectors[outliers])
    if not (sub >= 0).any():
        return labels
    centres = centroids(vectors[outliers], sub)
    result = labels.copy()
    next_label = int(labels.max()) + 1 if (labels >= 0).any() else 0
    for cluster in range(len(centres)):
        members = outliers[sub == cluster]
        if float((vectors[members] @ centres[cluster]).mean()) < min_cohesion:
            continue
        result[members] = next_label
        next_label += 1
    return result
