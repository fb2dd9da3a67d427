import numpy as np
from sklearn.datasets import make_blobs

from models.cluster import ClusterParams
from models.refine import cluster_outliers, split_large_clusters, split_size


def unit_blobs(n, centers, std, seed, dim=32):
    points, truth = make_blobs(
        n_samples=n, centers=centers, n_features=dim, cluster_std=std, random_state=seed
    )
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32), truth


def test_tight_groups_of_outliers_become_clusters_of_their_own():
    vectors, truth = unit_blobs(80, 4, 0.3, seed=1)
    labels = np.where(truth >= 2, -1, truth).astype(np.int64)  # groups 2 and 3 left out
    refined = cluster_outliers(
        vectors, labels, ClusterParams(), min_size=3, min_cohesion=0.5, dims=5
    )
    assert np.array_equal(refined[truth < 2], labels[truth < 2])  # clustered docs stay put
    # Each left-out group is one new cluster, numbered after the first pass's.
    assert {int(refined[truth == 2][0]), int(refined[truth == 3][0])} == {2, 3}
    assert len(set(refined[truth == 2].tolist())) == 1
    assert len(set(refined[truth == 3].tolist())) == 1


def test_scattered_outliers_stay_outliers_below_the_cohesion_floor():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((40, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = np.full(40, -1, dtype=np.int64)
    refined = cluster_outliers(
        vectors, labels, ClusterParams(), min_size=3, min_cohesion=0.9, dims=5
    )
    assert (refined == -1).all()


def test_a_large_cluster_made_of_two_groups_is_split_and_others_are_not():
    vectors, truth = unit_blobs(300, 3, 0.5, seed=4)
    merged = np.where(truth < 2, 0, 1).astype(np.int64)  # groups 0 and 1 wrongly as one
    split = split_large_clusters(vectors, merged, ClusterParams(min_cluster_size=10), max_size=150)
    assert len(set(split[truth < 2].tolist())) >= 2  # the big cluster was split
    assert (split >= 0).all()  # splitting creates no outliers
    assert len(set(split[truth == 2].tolist())) == 1  # the small one is untouched
    again = split_large_clusters(vectors, merged, ClusterParams(min_cluster_size=10), max_size=150)
    assert np.array_equal(split, again)


def test_split_size_is_a_share_of_the_period_with_a_floor():
    assert split_size(5000, 0.0, 60) == 0
    assert split_size(5000, 0.02, 60) == 100
    assert split_size(500, 0.02, 60) == 60
