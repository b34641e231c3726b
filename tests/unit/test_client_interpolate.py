"""The progress interpolator, driven by a fake clock."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docling_jobs.interpolate import (
    CATCH_UP_GAP,
    MAX_STEP,
    STALE_AFTER_S,
    TICK_S,
    Interpolator,
)
from tests.clock import FakeClock

ticks = st.tuples(st.just("tick"), st.floats(min_value=0.0, max_value=2.0))
updates = st.tuples(st.just("server"), st.floats(min_value=-20.0, max_value=130.0, allow_nan=False))
pauses = st.tuples(st.just("wait"), st.floats(min_value=0.0, max_value=8.0))
operations = st.lists(st.one_of(ticks, ticks, updates, pauses), max_size=200)


def check_tick(before: float, target: float, quiet_for: float | None, after: float) -> None:
    """The per-tick rule of the module docstring."""
    assert before <= after <= max(target, before) <= 100.0
    if quiet_for is None or quiet_for >= STALE_AFTER_S:
        assert after == before
    elif target - before > CATCH_UP_GAP:
        assert after == pytest.approx(before + (target - before) / 2)
    else:
        assert after - before <= MAX_STEP + 1e-9


def run(interpolator: Interpolator, clock: FakeClock, script: list[tuple[str, float]]) -> None:
    for kind, value in script:
        if kind == "server":
            interpolator.on_server(value)
        elif kind == "wait":
            clock.now += value
        else:
            clock.now += value
            before, target, news = interpolator.displayed, interpolator.target, interpolator.last_news
            after = interpolator.tick()
            check_tick(before, target, None if news is None else clock.now - news, after)


@settings(max_examples=300)
@given(operations)
def test_any_sequence_respects_the_rules_and_never_decreases(script: list) -> None:
    clock = FakeClock(now=0.0)
    run(Interpolator(clock), clock, script)


@settings(max_examples=200)
@given(operations, operations)
def test_completion_shows_100_and_it_stays(before: list, after: list) -> None:
    clock = FakeClock(now=0.0)
    interpolator = Interpolator(clock)
    run(interpolator, clock, before)
    interpolator.on_complete()
    assert interpolator.displayed == 100.0
    run(interpolator, clock, after)
    assert interpolator.displayed == 100.0 and interpolator.tick() == 100.0


def ticks_until(interpolator: Interpolator, clock: FakeClock, count: int) -> list[float]:
    shown = []
    for _ in range(count):
        clock.now += TICK_S
        shown.append(interpolator.tick())
    return shown


def test_small_gaps_close_one_point_a_tick() -> None:
    clock = FakeClock(now=0.0)
    interpolator = Interpolator(clock)
    interpolator.on_server(5)
    assert ticks_until(interpolator, clock, 7) == [1, 2, 3, 4, 5, 5, 5]


def test_large_gaps_close_half_a_tick_until_within_ten() -> None:
    clock = FakeClock(now=0.0)
    interpolator = Interpolator(clock)
    interpolator.on_server(15)
    interpolator.displayed = 15.0
    interpolator.on_server(60)
    assert ticks_until(interpolator, clock, 4) == pytest.approx([37.5, 48.75, 54.375, 55.375])


def test_no_news_for_five_seconds_pauses_and_news_resumes() -> None:
    clock = FakeClock(now=0.0)
    interpolator = Interpolator(clock)
    interpolator.on_server(8)
    clock.now = STALE_AFTER_S
    assert interpolator.tick() == 0.0
    interpolator.on_server(8)  # news, even with the same value
    assert interpolator.tick() == 1.0


def test_lower_values_are_ignored_and_out_of_range_ones_clamped() -> None:
    clock = FakeClock(now=0.0)
    interpolator = Interpolator(clock)
    interpolator.on_server(40)
    interpolator.on_server(20)
    assert interpolator.target == 40
    interpolator.on_server(250)
    assert interpolator.target == 100
    interpolator.on_server(float("nan"))
    assert interpolator.target == 100


def test_nothing_moves_before_any_news() -> None:
    assert Interpolator(FakeClock(now=0.0)).tick() == 0.0
