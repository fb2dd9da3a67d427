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


def cluster_outliers(
    vectors: NDArray[np.float32],
    labels: Labels,
    params: ClusterParams,
    min_size: int,
    min_cohesion: float,
    dims: int,
) -> Labels:
    """Labels with the outliers' own clusters added after the first pass's (numbered on).

    A new cluster is kept only when its documents' mean cosine to their centroid is at least
    `min_cohesion`: a handful of unrelated leftovers must not pass for a burst.
    """
    outliers = np.flatnonzero(labels < 0)
    if min_size <= 0 or len(outliers) < 2 * min_size:
        return labels
    finer = replace(
        params, min_cluster_size=min_size, min_samples=min_size, selection="eom", reduce_dims=dims
    )
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


def split_size(n_docs: int, share: float, minimum: int) -> int:
    """The size above which a cluster is split: a share of the period, never below `minimum`."""
    return 0 if share <= 0 else max(minimum, round(share * n_docs))


def split_large_clusters(
    vectors: NDArray[np.float32],
    labels: Labels,
    params: ClusterParams,
    max_size: int,
    max_depth: int = 3,
) -> Labels:
    """Cluster each cluster above `max_size` documents again, in its own principal axes.

    A period's 5-d PCA keeps its broadest directions, so a year of 5,000 abstracts falls into
    about 15 fields of ~300 papers, and a method used by nine of them never makes 20 % of a
    topic. Inside one cluster its own top axes separate its sub-fields, so clusters are split
    recursively (at most `max_depth` levels) until they are small enough or no longer split.
    A sub-pass's outliers join the nearest sub-cluster: they were in the parent, and splitting
    must not create outliers.
    """
    if max_size <= 0:
        return labels
    result = labels.copy()
    next_label = int(labels.max()) + 1 if (labels >= 0).any() else 0
    queue = [(int(c), 0) for c in sorted(set(labels.tolist())) if c >= 0]
    while queue:
        cluster, depth = queue.pop(0)
        members = np.flatnonzero(result == cluster)
        if len(members) <= max_size or depth >= max_depth:
            continue
        sub = _sub_clusters(vectors[members], params)
        if sub is None:
            continue
        parts = sorted(set(sub.tolist()))
        for index, part in enumerate(parts):
            target = cluster if index == 0 else next_label
            if index > 0:
                next_label += 1
            result[members[sub == part]] = target
            queue.append((target, depth + 1))
    return result


def _sub_clusters(vectors: NDArray[np.float32], params: ClusterParams) -> Labels | None:
    """Every row's sub-cluster (outliers folded into the nearest one), or None if no split."""
    sub = HdbscanClusterer(params).fit_predict(vectors)
    found = sorted(c for c in set(sub.tolist()) if c >= 0)
    if len(found) < 2:
        return None
    centres = centroids(vectors, sub)
    nearest = (vectors @ centres.T).argmax(axis=1)
    return np.where(sub >= 0, sub, nearest).astype(np.int64)
