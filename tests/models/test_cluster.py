import warnings

import numba
import numpy as np
import pytest
from sklearn.datasets import make_blobs

import models.cluster as cluster_module
from models.cluster import (
    ClusterParams,
    HdbscanClusterer,
    canonical_order,
    centroids,
    fast_hdbscan_available,
    pca_reduce,
    reattach_outliers,
    scaled_min_cluster_size,
)
from pipeline.errors import InputError, ObservatoryError

needs_fast_hdbscan = pytest.mark.skipif(
    not fast_hdbscan_available(), reason="optional package: pip install fast_hdbscan"
)


def blobs(n=300, centers=4, seed=0):
    points, truth = make_blobs(
        n_samples=n, centers=centers, n_features=32, cluster_std=0.6, random_state=seed
    )
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32), truth


def test_hdbscan_finds_the_blobs_deterministically():
    vectors, truth = blobs()
    clusterer = HdbscanClusterer(ClusterParams(selection="eom"))
    labels = clusterer.fit_predict(vectors)
    assert labels.max() + 1 == 4
    assert np.array_equal(labels, clusterer.fit_predict(vectors))
    for cluster in range(4):
        members = truth[labels == cluster]
        assert (members == np.bincount(members).argmax()).mean() > 0.95


def test_tiny_periods_are_all_outliers():
    vectors, _ = blobs(n=6, centers=1)
    assert (HdbscanClusterer(ClusterParams()).fit_predict(vectors) == -1).all()


def test_outliers_close_to_a_centroid_are_reattached():
    vectors, _ = blobs(n=40, centers=2)
    labels = np.where(np.arange(40) % 2 == 0, 0, 1)
    labels[:3] = -1
    result, strength = reattach_outliers(vectors, labels, threshold=-1.0)
    assert (result >= 0).all()
    # strength is the cosine to the centroid of the clusters as HDBSCAN left them
    assert np.allclose(strength, (vectors * centroids(vectors, labels)[result]).sum(axis=1))
    untouched, _ = reattach_outliers(vectors, labels, threshold=1.01)
    assert (untouched[:3] == -1).all()


def test_canonical_order_is_by_size_then_first_id():
    labels = np.array([5, 5, 2, 2, 2, -1, 7, 7])
    ids = ["h", "g", "f", "e", "d", "c", "a", "b"]
    assert canonical_order(labels, ids).tolist() == [2, 2, 0, 0, 0, -1, 1, 1]


def test_min_cluster_size_grows_with_the_period():
    assert scaled_min_cluster_size(50) == 5
    assert scaled_min_cluster_size(10_000) == 25
    assert scaled_min_cluster_size(10_000_000) == 100


def test_pca_matches_a_thin_svd_for_wide_and_tall_periods():
    rng = np.random.default_rng(3)
    for rows in (12, 700):  # fewer and more documents than dimensions
        vectors = rng.standard_normal((rows, 64)).astype(np.float32)
        reduced = pca_reduce(vectors, 5)
        centred = vectors.astype(np.float64) - vectors.mean(axis=0)
        _, _, axes = np.linalg.svd(centred, full_matrices=False)
        expected = centred @ axes[:5].T
        # Same projection up to each axis's sign, which pca_reduce fixes on its own rule.
        assert np.allclose(np.abs(reduced), np.abs(expected), atol=1e-6)
        assert np.array_equal(pca_reduce(vectors, 5), reduced)


def purity(labels, truth):
    """Share of clustered rows whose cluster's majority truth label is theirs."""
    kept = labels >= 0
    majority = {c: np.bincount(truth[labels == c]).argmax() for c in set(labels[kept].tolist())}
    pairs = zip(labels[kept], truth[kept], strict=True)
    return float(np.mean([majority[c] == t for c, t in pairs]))


def test_unknown_reducer_or_algorithm_names_the_field_and_the_choices():
    with pytest.raises(InputError, match=r"cluster\.reducer must be one of pca, umap, none"):
        ClusterParams(reducer="tsne")
    with pytest.raises(
        InputError, match=r"cluster\.algorithm must be one of hdbscan, fast_hdbscan; got 'x'"
    ):
        ClusterParams(algorithm="x")


def test_raw_vectors_with_hdbscan():
    vectors, truth = blobs()
    labels = HdbscanClusterer(ClusterParams(selection="eom", reducer="none")).fit_predict(vectors)
    assert labels.max() + 1 == 4
    assert purity(labels, truth) > 0.95


def test_umap_is_seeded():
    vectors, truth = blobs(n=200)
    clusterer = HdbscanClusterer(ClusterParams(selection="eom", reducer="umap"))
    labels = clusterer.fit_predict(vectors)
    assert labels.max() + 1 == 4
    assert purity(labels, truth) > 0.95
    assert np.array_equal(labels, clusterer.fit_predict(vectors))


def check_fast_hdbscan(reducer, vectors, truth):
    clusterer = HdbscanClusterer(
        ClusterParams(selection="eom", reducer=reducer, algorithm="fast_hdbscan")
    )
    state, threads = np.random.get_state(), numba.get_num_threads()
    labels = clusterer.fit_predict(vectors)
    assert labels.max() + 1 == 4
    assert purity(labels, truth) > 0.95
    assert np.array_equal(labels, clusterer.fit_predict(vectors))
    # numpy's global generator (seeded for pynndescent) and numba's threads are left as they were
    assert np.array_equal(np.random.get_state()[1], state[1])
    assert numba.get_num_threads() == threads


@needs_fast_hdbscan
def test_fast_hdbscan_is_deterministic():
    check_fast_hdbscan("pca", *blobs())


@needs_fast_hdbscan
@pytest.mark.slow  # pynndescent compiles for about a minute in each new process
def test_fast_hdbscan_on_raw_vectors_is_deterministic():
    check_fast_hdbscan("none", *blobs())  # 32-d: fast_hdbscan's nearest-neighbour path


@needs_fast_hdbscan
@pytest.mark.slow  # as above
def test_fast_hdbscan_copes_with_periods_smaller_than_its_neighbour_count():
    vectors, _ = blobs(n=12, centers=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pynndescent warns when asked for too many neighbours
        labels = HdbscanClusterer(
            ClusterParams(min_cluster_size=5, reducer="none", algorithm="fast_hdbscan")
        ).fit_predict(vectors)
    assert len(labels) == 12


def test_missing_fast_hdbscan_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(cluster_module, "fast_hdbscan_available", lambda: False)
    with pytest.raises(ObservatoryError, match="pip install fast_hdbscan"):
        HdbscanClusterer(ClusterParams(algorithm="fast_hdbscan"))
