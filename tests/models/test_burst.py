from hypothesis import given
from hypothesis import strategies as st

from models.burst import burst_states, last_burst
from models.score import porter_es


def test_a_jump_is_a_burst():
    burst = last_burst([1, 1, 1, 1, 8, 12], [100] * 6)
    assert burst.active and burst.started_index == 4 and burst.weight > 0
    assert burst_states([1, 1, 1, 1, 8, 12], [100] * 6) == [0, 0, 0, 0, 1, 1]


@given(rate=st.integers(0, 20), periods=st.integers(1, 12))
def test_a_flat_series_has_no_burst(rate, periods):
    assert not last_burst([rate] * periods, [100] * periods).active


def test_porter_needs_history_and_rewards_recent_growth():
    assert porter_es([1, 2, 3], [100] * 3) is None
    rising = porter_es([1, 1, 1, 1, 2, 2, 4, 6, 9, 14], [100] * 10)
    flat = porter_es([5] * 10, [100] * 10)
    assert rising is not None and flat is not None and rising > flat
    assert abs(flat) < 1e-9
