import math

from hypothesis import given
from hypothesis import strategies as st

from models.score import ScoreParams, TopicHistory, classify, growth, popularity, score_period


@given(share=st.floats(0.0, 1.0), docs=st.integers(1, 10_000))
def test_growth_is_zero_for_a_flat_series(share, docs):
    assert math.isclose(growth(share, [share, share, share], docs, 3), 0.0, abs_tol=1e-9)


@given(base=st.floats(0.0, 0.5), low=st.floats(0.0, 0.5), extra=st.floats(0.001, 0.5))
def test_growth_is_higher_when_recent_share_is_higher(base, low, extra):
    assert growth(low + extra, [base] * 3, 100, 3) > growth(low, [base] * 3, 100, 3)


def test_popularity_decays_with_the_gap():
    params = ScoreParams(decay=0.1, decay_power=2.0)
    assert popularity(10.0, 0, 1, params) > popularity(10.0, 0, 3, params)
    assert popularity(0.0, 5, 1, params) == 5


def test_classes():
    assert classify(100, 0.5, 1, 10) == "strong"
    assert classify(5, 0.5, 1, 10) == "weak"
    assert classify(5, -0.5, 1, 10) == "noise"
    assert classify(0.5, 1.0, 1, 10) == "noise"


def test_score_period_gives_reasons_for_flags():
    histories = [
        TopicHistory("a", 30, 0.3, [0.01, 0.01, 0.02], 3.0, 1, 3, 0.1),
        TopicHistory("b", 10, 0.1, [0.1, 0.1, 0.1], 30.0, 1, 5, 0.1),
        TopicHistory("c", 5, 0.05, [], 0.0, 1, 0, 0.6),
        TopicHistory("d", 2, 0.02, [0.02, 0.02, 0.02], 2.0, 1, 9, 0.1),
        TopicHistory("e", 1, 0.01, [0.02, 0.02, 0.02], 1.0, 1, 9, 0.1),
    ]
    scores = {s.topic_id: s for s in score_period("2024-W10", histories, 100, ScoreParams())}
    assert scores["a"].growth > 0 and scores["a"].signal_class == "strong"
    assert any("mean of the previous 3" in reason for reason in scores["a"].reasons)
    assert any("new topic" in reason for reason in scores["c"].reasons)
    assert scores["a"].high_potential > scores["b"].high_potential
