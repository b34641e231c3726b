"""This process's own view of each connection it keeps (NATS, Redis, PostgreSQL): up, down, or
closed for good. A change is logged once (not every attempt) and exposed as metrics:

- ``docling_connection_up{dependency}``: 1 up, 0 down or closed (unknown before the first look);
- ``docling_connection_changes_total{dependency, state}``: how often it went ``up``/``down``/``closed``;
- ``docling_reconnect_attempts_total{dependency}``: failed connection attempts (NATS).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from prometheus_client import Counter, Gauge

log = logging.getLogger(__name__)

CONNECTION_UP = Gauge(
    "docling_connection_up", "This process's connection to a dependency: 1 up, 0 down", ["dependency"]
)
CONNECTION_CHANGES = Counter(
    "docling_connection_changes_total",
    "Changes of a connection's state, by new state",
    ["dependency", "state"],
)
RECONNECT_ATTEMPTS = Counter(
    "docling_reconnect_attempts_total", "Failed attempts to (re)connect to a dependency", ["dependency"]
)
WATCH_INTERVAL_S = 5.0  # how often a worker looks at its dependencies when nobody asks


class Link:
    """One dependency's connection state; ``closed`` means the client will never reconnect."""

    def __init__(self, dependency: str) -> None:
        self.dependency = dependency
        self.up: bool | None = None
        self.closed = False
        self.since = time.monotonic()

    def mark(self, up: bool) -> None:
        """Record the state; log and count only a change."""
        if up == self.up or self.closed:
            return
        previous, now = self.up, time.monotonic()
        lasted_s, self.up, self.since = round(now - self.since, 1), up, now
        CONNECTION_UP.labels(self.dependency).set(1.0 if up else 0.0)
        CONNECTION_CHANGES.labels(self.dependency, "up" if up else "down").inc()
        fields = {"dependency": self.dependency}
        if up and previous is False:
            log.warning("connection restored", extra={**fields, "down_s": lasted_s})
        elif up:
            log.info("connected", extra=fields)
        elif previous is None:
            log.warning("unreachable; trying again", extra=fields)
        else:
            log.warning("connection lost; reconnecting", extra=fields)

    def mark_closed(self) -> None:
        """The client gave up for good: only a restart of the process brings it back."""
        if self.closed:
            return
        self.closed, self.up = True, False
        CONNECTION_UP.labels(self.dependency).set(0.0)
        CONNECTION_CHANGES.labels(self.dependency, "closed").inc()
        log.warning("connection closed; it will not reconnect", extra={"dependency": self.dependency})

    def attempt_failed(self) -> None:
        RECONNECT_ATTEMPTS.labels(self.dependency).inc()


Check = Callable[[], Awaitable[bool]]


async def probe(check: Check, timeout_s: float) -> bool:
    """A dependency's check as up or down: any failure, or no answer in time, is down."""
    try:
        async with asyncio.timeout(timeout_s):
            return bool(await check())
    except Exception:
        return False


async def look(checks: Mapping[str, Check], links: Mapping[str, Link], timeout_s: float) -> dict[str, bool]:
    """Run every check at once and record each answer on its link."""
    names = list(checks)
    answers = await asyncio.gather(*(probe(checks[name], timeout_s) for name in names))
    for name, up in zip(names, answers, strict=True):
        links[name].mark(up)
    return dict(zip(names, answers, strict=True))


@contextlib.asynccontextmanager
async def watching(
    checks: Mapping[str, Check], links: Mapping[str, Link], every_s: float = WATCH_INTERVAL_S
) -> AsyncIterator[None]:
    """Look at the dependencies every ``every_s`` in the background (so an outage is logged and
    counted even when nobody asks for readiness)."""

    async def loop() -> None:
        while True:
            await look(checks, links, timeout_s=min(2.0, every_s))
            await asyncio.sleep(every_s)

    task = asyncio.create_task(loop(), name="watch-dependencies")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
