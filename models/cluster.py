"""Per-period clustering: reduce to a few dimensions, then HDBSCAN, then outlier re-attachment.

Two knobs of `ClusterParams` choose the method (docs/clustering.md has the measured figures):
`reducer` is "pca" (default), "umap" (seeded) or "none" (the raw vectors), and `algorithm` is
"hdbscan" (default, the `hdbscan` library) or "fast_hdbscan" (an optional package:
`pip install fast_hdbscan`). UMAP and fast_hdbscan are imported only when chosen.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from pipeline.errors import InputError, ObservatoryError

Labels = NDArray[np.int64]


class Clusterer(Protocol):
    """Assigns each row a cluster number, or -1 for an outlier."""

    def fit_predict(self, vectors: NDArray[np.float32]) -> Labels: ...


REDUCERS = ("pca", "umap", "none")
ALGORITHMS = ("hdbscan", "fast_hdbscan")
# UMAP's own default. Periods have tens to a few thousand documents and the smallest cluster
# kept is sqrt(n)/4 of them (5 to 100), so 15 neighbours stay local at every size here;
# fewer than 16 documents use all the others.
UMAP_NEIGHBORS = 15


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

    def __post_init__(self) -> None:
        for name, allowed in (("reducer", REDUCERS), ("algorithm", ALGORITHMS)):
            value = getattr(self, name)
            if value not in allowed:
                raise InputError(
                    f"cluster.{name} must be one of {', '.join(allowed)}; got {value!r}"
                )


def scaled_min_cluster_size(n_docs: int) -> int:
    """A quarter of the square root of the period's size, between 5 and 100 documents.

    Measured on a month of headlines (1,347): sqrt(n)/2 gave 2 broad clusters, this gives ~15
    readable ones; leaf selection keeps emerging topics from being swallowed by big ones.
    """
    return int(min(100, max(5, round(math.sqrt(n_docs) / 4))))


def pca_reduce(vectors: NDArray[np.float32], dims: int) -> NDArray[np.float64]:
    """Project on the top principal axes (scikit-learn's PCA), in float64.

    Solvers chosen explicitly because "auto" turns randomized on larger periods:
    "covariance_eigh" (the d x d covariance) when there are more documents than dimensions,
    a full SVD otherwise; both exact and deterministic. scikit-learn fixes each axis's sign
    so that its largest coordinate is positive, the rule this function always used.
    """
    # Imported here: scikit-learn (with SciPy's statistics) takes about 2 s to import, which
    # every command would pay through the settings that name this module's parameters.
    from sklearn.decomposition import PCA

    data = vectors.astype(np.float64)
    if dims <= 0 or dims >= min(data.shape):
        return np.asarray(data - data.mean(axis=0, keepdims=True), dtype=np.float64)
    solver = "covariance_eigh" if data.shape[0] >= data.shape[1] else "full"
    return np.asarray(
        PCA(n_components=dims, svd_solver=solver).fit_transform(data), dtype=np.float64
    )


def umap_reduce(vectors: NDArray[np.float32], dims: int, seed: int) -> NDArray[np.float32]:
    """Seeded UMAP to `dims` dimensions on cosine distances (single-threaded: the seed forces it).

    The first use in a fresh environment compiles UMAP's numba code (about a minute; cached
    in the environment afterwards).
    """
    import umap

    if dims <= 0:
        raise InputError("cluster.reduce_dims must be at least 1 when cluster.reducer is umap")
    model = umap.UMAP(
        n_components=dims,
        n_neighbors=min(UMAP_NEIGHBORS, len(vectors) - 1),
        min_dist=0.0,
        metric="cosine",
        random_state=seed,
        n_jobs=1,
    )
    return np.asarray(model.fit_transform(vectors), dtype=np.float32)


def reduce_vectors(vectors: NDArray[np.float32], params: ClusterParams) -> NDArray[np.floating]:
    """The period's vectors as the chosen reducer gives them to the clustering algorithm."""
    if params.reducer == "umap":
        return umap_reduce(vectors, params.reduce_dims, params.seed)
    if params.reducer == "none":
        return np.asarray(vectors)
    return pca_reduce(vectors, params.reduce_dims)


MISSING_FAST_HDBSCAN = (
    "cluster.algorithm is fast_hdbscan but the fast_hdbscan package is not "
    "installed; run `pip install fast_hdbscan` or choose cluster.algorithm "
    "hdbscan"
)


def fast_hdbscan_available() -> bool:
    """Whether the optional `fast_hdbscan` package is installed."""
    return importlib.util.find_spec("fast_hdbscan") is not None


class HdbscanClusterer:
    """HDBSCAN on reduced unit vectors (euclidean there tracks cosine).

    By default the `hdbscan` library on a 5-d PCA; `params.reducer` and `params.algorithm`
    choose UMAP or the raw vectors, and the `fast_hdbscan` package.
    """

    def __init__(self, params: ClusterParams) -> None:
        self.params = params
        if params.algorithm == "fast_hdbscan" and not fast_hdbscan_available():
            raise ObservatoryError(MISSING_FAST_HDBSCAN)  # when the engine is built, not later

    def fit_predict(self, vectors: NDArray[np.float32]) -> Labels:
        n_docs = len(vectors)
        size = self.params.min_cluster_size or scaled_min_cluster_size(n_docs)
        if n_docs < max(2 * size, 4):
            return np.full(n_docs, -1, dtype=np.int64)
        samples = self.params.min_samples or min(3, size)
        reduced = reduce_vectors(vectors, self.params)
        if self.params.algorithm == "fast_hdbscan":
            return _fast_hdbscan_labels(
                reduced, size, samples, self.params.selection, self.params.seed
            )
        import hdbscan

        model = hdbscan.HDBSCAN(
            min_cluster_size=size,
            min_samples=samples,
            cluster_selection_method=self.params.selection,
            core_dist_n_jobs=1,
        )
        return np.asarray(model.fit_predict(reduced), dtype=np.int64)


def _fast_hdbscan_labels(
    reduced: NDArray[np.floating], size: int, samples: int, selection: str, seed: int
) -> Labels:
    """fast_hdbscan with the same settings, reproducible.

    Up to 30 dimensions it builds its spanning tree with a k-d tree; above, it finds neighbours
    with pynndescent, which it seeds from numpy's global generator, so that generator is seeded
    for the fit only and put back afterwards (models/determinism.py). It runs on one numba
    thread: with two, even with `reproducible=True`, a year of patents with duplicate
    abstracts (227 documents) came out two ways in 20 runs, and its block sizes depend on the
    thread count, so labels would differ between machines. Its neighbour count is the package's own,
    max(3 x min_samples, 15), but never more than the period's other documents.
    """
    try:
        import fast_hdbscan
    except ImportError as error:
        raise ObservatoryError(f"{MISSING_FAST_HDBSCAN} ({error})") from error
    from models.determinism import numba_threads, numpy_global_seed

    model = fast_hdbscan.HDBSCAN(
        min_cluster_size=size,
        min_samples=samples,
        cluster_selection_method=selection,
        reproducible=True,
        knn_k=min(max(3 * samples, 15), len(reduced) - 2),
    )
    with numpy_global_seed(seed), numba_threads(1):
        labels = model.fit_predict(reduced)
    return np.asarray(labels, dtype=np.int64)


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


def reattach_outliers(
    vectors: NDArray[np.float32], labels: Labels, threshold: float
) -> tuple[Labels, NDArray[np.float64]]:
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
        key=lambda c: (
            -int((labels == c).sum()),
            min(doc_ids[i] for i in np.flatnonzero(labels == c)),
        ),
    )
    mapping = {old: new for new, old in enumerate(clusters)}
    return np.asarray([mapping.get(int(label), -1) for label in labels], dtype=np.int64)
