"""Which errors mean "a dependency is away" (wait and try again) rather than "this is wrong"."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import nats.errors
import nats.js.errors
import redis.exceptions

from runtime.reconnect import ReconnectPolicy

log = logging.getLogger(__name__)
T = TypeVar("T")

OUTAGES: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused, reset, aborted
    TimeoutError,  # nats-py's and asyncio's too
    socket.gaierror,  # a container's name does not resolve while it is down
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # a connection that broke under a query
    asyncpg.CannotConnectNowError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    nats.errors.TimeoutError,  # (a TimeoutError too) named so BUS_OUTAGES has it
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.ConnectionDrainingError,
    nats.errors.NoRespondersError,
    nats.errors.StaleConnectionError,
    nats.errors.OutboundBufferLimitError,
    nats.js.errors.ServiceUnavailableError,
)
BUS_OUTAGES: tuple[type[BaseException], ...] = tuple(
    kind for kind in OUTAGES if kind.__module__.startswith("nats")
)


def is_outage(error: BaseException) -> bool:
    return isinstance(error, OUTAGES)


async def ride_out(
    work: Callable[[], Awaitable[T]],
    policy: ReconnectPolicy,
    context: dict[str, str],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``work`` until it finishes without meeting an outage, waiting ``policy``'s backoff
    between tries: an outage of any length costs time, never an attempt (``max_deliver``).
    ``work`` must be safe to run again (every handler is: consuming is idempotent)."""
    failures = 0
    while True:
        try:
            return await work()
        except OUTAGES as error:
            if failures == 0:
                fields = {**context, "error": type(error).__name__}
                log.warning("dependency unavailable; waiting for it", extra=fields)
            await sleep(policy.wait_s(failures))
            failures += 1
