"""Process-wide state some libraries read, set for one call only and put back after it.

fast_hdbscan's pynndescent draws from numpy's global generator (it takes no generator of its
own) and numba's thread count changes its results; these set either for the `with` block
around that one call, never at import and never for longer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np


@contextmanager
def numpy_global_seed(seed: int) -> Iterator[None]:
    """numpy's global generator seeded with `seed` inside the block, as it was after it."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


@contextmanager
def numba_threads(threads: int) -> Iterator[None]:
    """numba's thread count set to `threads` inside the block, as it was after it."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        yield
    finally:
        numba.set_num_threads(before)
