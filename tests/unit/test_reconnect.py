"""Reconnecting for ever: the backoff schedule, the server choice, riding out an outage, and a
connection state that is logged and counted once per change."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import asyncpg
import nats.errors
import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime import outages
from runtime.links import CONNECTION_CHANGES, CONNECTION_UP, Link
from runtime.reconnect import ReconnectPolicy, choose_server
from runtime.settings import CommonSettings

POLICY = ReconnectPolicy(base_s=0.5, cap_s=10.0, jitter=0.2)


@given(failures=st.integers(min_value=0, max_value=10_000), r=st.floats(min_value=0.0, max_value=1.0))
def test_every_wait_is_the_capped_doubling_within_the_jitter(failures: int, r: float) -> None:
    nominal = min(10.0, 0.5 * 2 ** min(failures, 62))
    assert 0.8 * nominal - 1e-9 <= POLICY.wait_s(failures, lambda: r) <= 1.2 * nominal + 1e-9


def test_waits_double_from_the_base_and_stop_at_the_cap() -> None:
    middle = lambda: 0.5  # noqa: E731  # no jitter
    assert [POLICY.wait_s(n, middle) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert POLICY.wait_s(10**6, middle) == 10.0  # no limit on the attempts: the wait stays capped


def test_the_settings_give_the_policy_and_never_a_cap_below_the_base() -> None:
    settings = CommonSettings(RECONNECT_WAIT_S=2.0, RECONNECT_MAX_WAIT_S=1.0)
    assert settings.reconnect_policy() == ReconnectPolicy(2.0, 2.0)
    assert CommonSettings().reconnect_policy() == ReconnectPolicy(0.5, 10.0)


@dataclass
class FakeServer:
    name: str
    reconnects: int


def test_the_handler_picks_the_server_that_failed_least_and_waits_for_its_failures() -> None:
    handler = choose_server(POLICY, rand=lambda: 0.5)
    servers = [FakeServer("a", 4), FakeServer("b", 1), FakeServer("c", 3)]
    chosen, wait = handler(servers, {})
    assert chosen.name == "b" and wait == 1.0


async def test_ride_out_waits_through_outages_of_any_kind_and_returns_the_result() -> None:
    failures = [ConnectionRefusedError(), asyncpg.CannotConnectNowError(), nats.errors.TimeoutError()]
    slept: list[float] = []

    async def work() -> str:
        if failures:
            raise failures.pop(0)
        return "done"

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    policy = ReconnectPolicy(1.0, 3.0, jitter=0.0)
    assert await outages.ride_out(work, policy, {}, sleep) == "done"
    assert slept == [1.0, 2.0, 3.0]


async def test_ride_out_lets_a_real_error_through_at_once() -> None:
    async def work() -> None:
        raise ValueError("a bad document is not an outage")

    with pytest.raises(ValueError):
        await outages.ride_out(work, POLICY, {}, asyncio.sleep)


def test_bus_outages_are_the_nats_ones() -> None:
    assert nats.errors.ConnectionClosedError in outages.BUS_OUTAGES
    assert nats.errors.TimeoutError in outages.BUS_OUTAGES
    assert not any(issubclass(k, asyncpg.PostgresError) for k in outages.BUS_OUTAGES)


def test_a_link_logs_and_counts_each_change_once(caplog: pytest.LogCaptureFixture) -> None:
    link = Link("unit-dependency")
    downs = CONNECTION_CHANGES.labels("unit-dependency", "down")
    with caplog.at_level(logging.INFO, logger="runtime.links"):
        for up in (True, True, False, False, False, True, True):
            link.mark(up)
    assert [r.getMessage() for r in caplog.records] == [
        "connected",
        "connection lost; reconnecting",
        "connection restored",
    ]
    assert downs._value.get() == 1.0
    assert CONNECTION_UP.labels("unit-dependency")._value.get() == 1.0


def test_a_closed_link_stays_closed() -> None:
    link = Link("unit-closed")
    link.mark(True)
    link.mark_closed()
    link.mark(True)
    assert link.closed and link.up is False
    assert CONNECTION_UP.labels("unit-closed")._value.get() == 0.0
