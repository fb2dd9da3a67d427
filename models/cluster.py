"""Per-period clustering: PCA to a few dimensions, then HDBSCAN, then outlier re-attachment."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

Labels = NDArray[np.int64]


class Clusterer(Protocol):
    """Assigns each row a cluster number, or -1 for an outlier."""

    def fit_predict(self, vectors: NDArray[np.float32]) -> Labels: ...


@dataclass(frozen=True)
class ClusterParams:
    """HDBSCAN settings; zeros mean "scale to the period's size"."""

    min_cluster_size: int = 0
    min_samples: int = 0
    reduce_dims: int = 5
    selection: str = "leaf"
    reattach_threshold: float = 0.35
    seed: int = 42
    reducer: str = "pca"  # "pca", "umap" (seeded) or "none" (cluster the raw vectors)
    algorithm: str = "hdbscan"  # "hdbscan" or "fast_hdbscan"


def scaled_min_cluster_size(n_docs: int) -> int:
    """A quarter of the square root of the period's size, between 5 and 100 documents.

    Measured on a month of headlines (1,347): sqrt(n)/2 gave 2 broad clusters, this gives ~15
    readable ones; leaf selection keeps emerging topics from being swallowed by big ones.
    """
    return int(min(100, max(5, round(math.sqrt(n_docs) / 4))))


def pca_reduce(vectors: NDArray[np.float32], dims: int) -> NDArray[np.float64]:
    """Project on the top principal axes, with signs fixed so results are reproducible."""
    centred = vectors.astype(np.float64) - vectors.mean(axis=0, keepdims=True)
    if dims <= 0 or dims >= min(centred.shape):
        return np.asarray(centred, dtype=np.float64)
    axes = _principal_axes(centred, dims)
    signs = np.sign(axes[np.arange(dims), np.abs(axes).argmax(axis=1)])
    return np.asarray(centred @ (axes * signs[:, None]).T)


def _principal_axes(centred: NDArray[np.float64], dims: int) -> NDArray[np.float64]:
    """Top `dims` right singular vectors, from the smaller of the two Gram matrices.

    An eigen-decomposition of the n x n (or d x d) Gram matrix gives the same axes as a
    thin SVD at a third to a quarter of its cost here, which mattered for hundreds of
    small weekly periods.
    """
    n_rows, n_cols = centred.shape
    if n_rows < n_cols:
        values, vectors = np.linalg.eigh(centred @ centred.T)
        top = np.argsort(values)[::-1][:dims]
        axes = (centred.T @ vectors[:, top]) / np.sqrt(np.maximum(values[top], 1e-24))
        return np.asarray(axes.T)
    values, vectors = np.linalg.eigh(centred.T @ centred)
    top = np.argsort(values)[::-1][:dims]
    return np.asarray(vectors[:, top].T)


class HdbscanClusterer:
    """The `hdbscan` library on PCA-reduced unit vectors (euclidean there tracks cosine)."""

    def __init__(self, params: ClusterParams) -> None:
        self.params = params

    def fit_predict(self, vectors: NDArray[np.float32]) -> Labels:
        import hdbscan

        n_docs = len(vectors)
        size = self.params.min_cluster_size or scaled_min_cluster_size(n_docs)
        if n_docs < max(2 * size, 4):
            return np.full(n_docs, -1, dtype=np.int64)
        samples = self.params.min_samples or min(3, size)
        reduced = pca_reduce(vectors, self.params.reduce_dims)
        model = hdbscan.HDBSCAN(min_cluster_size=size, min_samples=samples,
                                cluster_selection_method=self.params.selection,
                                core_dist_n_jobs=1)
        return np.asarray(model.fit_predict(reduced), dtype=np.int64)


def unit(matrix: NDArray[np.floating]) -> NDArray[np.float32]:
    """Rows scaled to length one (zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return np.asarray(matrix / np.maximum(norms, 1e-12), dtype=np.float32)


def centroids(vectors: NDArray[np.float32], labels: Labels) -> NDArray[np.float32]:
    """Unit mean vector of each cluster 0..k-1."""
    k = int(labels.max()) + 1 if len(labels) and labels.max() >= 0 else 0
    if k == 0:
        return np.zeros((0, vectors.shape[1]), dtype=np.float32)
    return unit(np.stack([vectors[labels == c].mean(axis=0) for c in range(k)]))


def reattach_outliers(vectors: NDArray[np.float32], labels: Labels,
                      threshold: float) -> tuple[Labels, NDArray[np.float64]]:
    """Give each outlier its nearest cluster when cosine to its centroid passes the threshold.

    Returns the new labels and each document's cosine to its cluster's centroid (0 for
    outliers), which the store keeps as the assignment strength.
    """
    centres = centroids(vectors, labels)
    if len(centres) == 0:
        return labels, np.zeros(len(labels))
    sims = vectors @ centres.T
    nearest = sims.argmax(axis=1)
    best = sims[np.arange(len(labels)), nearest]
    result = labels.copy()
    attach = (labels < 0) & (best >= threshold)
    result[attach] = nearest[attach]
    strength = np.where(result >= 0, sims[np.arange(len(labels)), np.maximum(result, 0)], 0.0)
    return result, strength.astype(np.float64)


def canonical_order(labels: Labels, doc_ids: list[str]) -> Labels:
    """Renumber clusters by size (desc), then first doc id, so ids do not depend on HDBSCAN's."""
    clusters = sorted(
        (c for c in set(labels.tolist()) if c >= 0),
        key=lambda c: (-int((labels == c).sum()),
                       min(doc_ids[i] for i in np.flatnonzero(labels == c))),
    )
    mapping = {old: new for new, old in enumerate(clusters)}
    return np.asarray([mapping.get(int(label), -1) for label in labels], dtype=np.int64)
