"""benchmarks/backtest_run.py with the clusterer's numba code compiled first (not a test).

UMAP, pynndescent and fast_hdbscan compile their numba functions in every new process (UMAP
caches part of it in the environment). A backtest's `cluster` seconds include that once; this
wrapper first clusters two synthetic periods (300 and 60 unit vectors, 512-d, as the encoder
gives) with the same reducer and algorithm, prints how long that took, then runs the backtest
with the same arguments, so its `cluster` seconds are the steady-state cost.

    nice -n 10 .venv/bin/python benchmarks/results/clustering/warm_backtest.py <backtest args>
"""

from __future__ import annotations

import runpy
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import make_blobs

from models.cluster import ClusterParams, HdbscanClusterer

ROOT = Path(__file__).resolve().parents[3]


def flag(argv: list[str], name: str, default: str) -> str:
    return argv[argv.index(name) + 1] if name in argv else default


def warm_up(argv: list[str]) -> float:
    """Seconds spent clustering the synthetic periods with the run's reducer and algorithm."""
    params = ClusterParams(
        reducer=flag(argv, "--reducer", "pca"), algorithm=flag(argv, "--algorithm", "hdbscan")
    )
    start = time.perf_counter()
    for n, selection in ((300, "leaf"), (60, "eom")):
        points, _ = make_blobs(n_samples=n, centers=4, n_features=512, random_state=0)
        vectors = (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)
        HdbscanClusterer(ClusterParams(**{**params.__dict__, "selection": selection})).fit_predict(
            vectors
        )
    return time.perf_counter() - start


if __name__ == "__main__":
    args = sys.argv[1:]
    print(f"warm-up (compilation) {warm_up(args):.1f}s", file=sys.stderr, flush=True)
    sys.argv = [str(ROOT / "benchmarks" / "backtest_run.py"), *args]
    runpy.run_path(sys.argv[0], run_name="__main__")
