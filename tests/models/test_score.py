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


def test_classes_come_from_evidence_never_from_size():
    params = ScoreParams()
    assert classify(1.4, 2, 500, params) == "strong"
    assert classify(1.4, 1, 5, params) == "weak"
    assert classify(0.04, 0, 5000, params) == "noise"  # large and flat is not strong
    assert classify(-0.5, 1, 10, params) == "noise"
    assert classify(1.0, 2, 2, params) == "noise"  # under min_docs_to_flag


def test_a_large_flat_topic_is_noise_and_a_fourfold_rise_is_flagged():
    histories = [
        TopicHistory(
            "flat",
            400,
            0.4,
            [0.4, 0.41, 0.39],
            1200.0,
            1,
            30,
            0.05,
            series_hits=[40, 41, 39, 400],
            series_totals=[100, 100, 100, 1000],
        ),
        TopicHistory(
            "covid",
            180,
            0.18,
            [0.04, 0.05, 0.045],
            100.0,
            1,
            12,
            0.05,
            series_hits=[40, 50, 45, 180],
            series_totals=[1000, 1000, 1000, 1000],
        ),
    ]
    scores = {s.topic_id: s for s in score_period("2020-02", histories, 1000, ScoreParams())}
    assert scores["flat"].signal_class == "noise"
    assert scores["covid"].signal_class == "strong"  # 4x growth and a burst


def test_score_period_gives_reasons_for_flags():
    histories = [
        TopicHistory("a", 30, 0.3, [0.01, 0.01, 0.02], 3.0, 1, 3, 0.1),
        TopicHistory("b", 10, 0.1, [0.1, 0.1, 0.1], 30.0, 1, 5, 0.1),
        TopicHistory("c", 5, 0.05, [], 0.0, 1, 0, 0.6),
        TopicHistory("d", 2, 0.02, [0.02, 0.02, 0.02], 2.0, 1, 9, 0.1),
        TopicHistory("e", 1, 0.01, [0.02, 0.02, 0.02], 1.0, 1, 9, 0.1),
    ]
    scores = {s.topic_id: s for s in score_period("2024-W10", histories, 100, ScoreParams())}
    assert scores["a"].growth > 0 and scores["a"].signal_class == "weak"  # growth only
    assert scores["b"].signal_class == "noise"  # flat, whatever its popularity
    assert any("mean of the previous 3" in reason for reason in scores["a"].reasons)
    assert any("new topic" in reason for reason in scores["c"].reasons)
    assert scores["a"].high_potential > scores["b"].high_potential
