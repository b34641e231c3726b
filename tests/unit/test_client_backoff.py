"""The reconnection schedule: base 1 s, x2, max 30 s, +/-10 % jitter, exactly 10 tries."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docling_jobs.backoff import MAX_TRIES, ReconnectionManager, delay, nominal

unit_floats = st.floats(min_value=0.0, max_value=1.0)


def bounds(attempt: int) -> tuple[float, float]:
    """The seed's bounds for zero-based attempt k: [0.9, 1.1] * min(30, 2**k)."""
    base = min(30.0, 2.0**attempt)
    return 0.9 * base, 1.1 * base


@given(attempt=st.integers(min_value=0, max_value=MAX_TRIES - 1), r=unit_floats)
def test_every_delay_is_within_ten_percent_of_the_capped_doubling(attempt: int, r: float) -> None:
    low, high = bounds(attempt)
    assert low <= delay(attempt, lambda: r) <= high


@given(st.lists(unit_floats, min_size=MAX_TRIES, max_size=MAX_TRIES))
def test_a_manager_gives_exactly_ten_delays_within_bounds_then_none(rs: list[float]) -> None:
    source = iter(rs)
    manager = ReconnectionManager(lambda: next(source))
    delays = [manager.next_delay() for _ in range(MAX_TRIES)]
    assert all(bounds(k)[0] <= d <= bounds(k)[1] for k, d in enumerate(delays))
    assert manager.exhausted and manager.next_delay() is None and manager.next_delay() is None


def test_the_nominal_schedule() -> None:
    assert [nominal(k) for k in range(MAX_TRIES)] == [1, 2, 4, 8, 16, 30, 30, 30, 30, 30]
    assert MAX_TRIES == 10


def test_jitter_spans_both_ends() -> None:
    assert delay(3, lambda: 0.0) == pytest.approx(7.2)
    assert delay(3, lambda: 0.5) == pytest.approx(8.0)
    assert delay(3, lambda: 1.0) == pytest.approx(8.8)


def test_out_of_range_random_values_are_clamped() -> None:
    assert delay(0, lambda: 7.0) == pytest.approx(1.1) and delay(0, lambda: -1.0) == pytest.approx(0.9)


@pytest.mark.parametrize("attempt", [-1, MAX_TRIES])
def test_attempts_outside_the_ten_are_refused(attempt: int) -> None:
    with pytest.raises(ValueError):
        delay(attempt)


def test_reset_starts_the_schedule_again() -> None:
    manager = ReconnectionManager(lambda: 0.5)
    assert [manager.next_delay() for _ in range(3)] == [1.0, 2.0, 4.0]
    manager.reset()
    assert manager.attempts == 0 and manager.next_delay() == 1.0
