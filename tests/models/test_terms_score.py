"""Term measures: smoothed growth, vectorised burst, novelty and persistence."""

import numpy as np
import scipy.sparse as sp

from models.burst import last_burst
from models.score import porter_es
from models.terms import PeriodTerms
from models.terms_score import TermScoreParams, last_bursts, porter_scores, term_measures
from pipeline.signal_store import TermHistory


def period(counts):
    n = len(counts)
    return PeriodTerms(
        tuple(f"t{i}" for i in range(n)),
        tuple(f"t{i}" for i in range(n)),
        sp.csr_matrix((1, n)),
        np.asarray(counts, np.int64),
        np.ones(n, np.int64),
        np.ones(n, np.int64),
        (("news",),) * n,
        (("en",),) * n,
    )


def history(rows, totals, present=None, gap=None, n_history=None):
    rows = np.asarray(rows, np.int64)
    return TermHistory(
        tuple(f"p{j}" for j in range(rows.shape[1])),
        np.asarray(totals, np.int64),
        rows,
        np.asarray(present if present is not None else (rows > 0).sum(axis=1)),
        np.asarray(gap if gap is not None else [1] * len(rows)),
        n_history if n_history is not None else rows.shape[1],
    )


def test_vectorised_burst_matches_the_reference():
    rng = np.random.default_rng(0)
    totals = rng.integers(50, 200, size=10).astype(float)
    hits = np.minimum(rng.poisson(5, size=(40, 10)), totals.astype(int)).astype(float)
    hits[:5, -3:] += 30  # a few real bursts at the end
    active, weight = last_bursts(hits, totals, 2.0, 1.0)
    for i in range(len(hits)):
        ref = last_burst(hits[i].astype(int).tolist(), totals.astype(int).tolist())
        assert active[i] == ref.active
        assert abs(weight[i] - ref.weight) < 1e-4


def test_vectorised_porter_matches_the_reference():
    rng = np.random.default_rng(1)
    totals = rng.integers(50, 200, size=10).astype(float)
    hits = rng.poisson(5, size=(5, 10)).astype(float)
    got = porter_scores(hits, totals)
    for i in range(5):
        assert (
            abs(got[i] - porter_es(hits[i].astype(int).tolist(), totals.astype(int).tolist()))
            < 1e-6
        )


def test_three_documents_after_nothing_do_not_outrank_a_real_rise():
    terms = period([3, 40, 30])
    hist = history([[0, 0, 0], [5, 5, 5], [30, 30, 30]], [100, 100, 100])
    m = term_measures(terms, hist, 100, TermScoreParams())
    assert m.growth[1] > m.growth[0] > 0
    assert abs(m.growth[2]) < 1e-9  # flat
    assert m.rising.tolist() == [True, True, False]  # 3 after nothing is just at the floor
    assert abs(m.growth[0] - np.log(2)) < 1e-9
    assert m.first_seen.tolist() == [True, False, False]


def test_novelty_persistence_and_warm_up():
    terms = period([5, 5, 5])
    hist = history(
        [[0, 0, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], [50] * 4, present=[0, 6, 1], gap=[0, 1, 4]
    )
    m = term_measures(terms, hist, 50, TermScoreParams())
    assert m.first_seen.tolist() == [True, False, False]
    assert m.returned.tolist() == [False, False, True]
    assert m.persistence.tolist() == [1, 5, 1]
    cold = term_measures(terms, history([[0], [1], [0]], [50], n_history=1), 50, TermScoreParams())
    assert not cold.first_seen.any() and not cold.rising.any()
