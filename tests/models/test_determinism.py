"""Global state set for one call only: numpy's generator and numba's threads come back."""

import numba
import numpy as np
import pytest

from models.cluster import ClusterParams, HdbscanClusterer
from models.determinism import numba_threads, numpy_global_seed


def test_numpy_global_seed_is_local_to_its_block():
    np.random.seed(5)
    expected = np.random.get_state()[1].copy()
    with numpy_global_seed(42):
        inside = np.random.random(3)
    with numpy_global_seed(42):
        assert np.array_equal(np.random.random(3), inside)  # the seed decides the draws
    assert np.array_equal(np.random.get_state()[1], expected)
    with pytest.raises(RuntimeError), numpy_global_seed(1):
        raise RuntimeError("put back on errors too")
    assert np.array_equal(np.random.get_state()[1], expected)


def test_numba_threads_are_local_to_their_block():
    before = numba.get_num_threads()
    with numba_threads(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before


def test_importing_and_clustering_leave_numpy_global_state_alone():
    np.random.seed(7)
    expected = np.random.get_state()[1].copy()
    vectors = np.random.default_rng(0).normal(size=(60, 8)).astype(np.float32)
    np.random.seed(7)
    HdbscanClusterer(ClusterParams()).fit_predict(vectors)
    assert np.array_equal(np.random.get_state()[1], expected)


def test_fast_hdbscan_leaves_numpy_and_numba_as_they_were():
    pytest.importorskip("fast_hdbscan")
    np.random.seed(7)
    expected, threads = np.random.get_state()[1].copy(), numba.get_num_threads()
    vectors = np.random.default_rng(0).normal(size=(80, 40)).astype(np.float32)
    params = ClusterParams(algorithm="fast_hdbscan", reducer="none")
    first = HdbscanClusterer(params).fit_predict(vectors)
    assert np.array_equal(HdbscanClusterer(params).fit_predict(vectors), first)
    assert np.array_equal(np.random.get_state()[1], expected)
    assert numba.get_num_threads() == threads
