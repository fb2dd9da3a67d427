import numpy as np
from sklearn.datasets import make_blobs

from models.cluster import (
    ClusterParams,
    HdbscanClusterer,
    canonical_order,
    centroids,
    pca_reduce,
    reattach_outliers,
    scaled_min_cluster_size,
)


def blobs(n=300, centers=4, seed=0):
    points, truth = make_blobs(n_samples=n, centers=centers, n_features=32, cluster_std=0.6,
                               random_state=seed)
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
