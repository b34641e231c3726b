"""Retention: every service deletes its own data about jobs older than ``JOB_RETENTION_DAYS``
(30, the seed's database retention; 0 keeps everything), at start and then every
``JOB_RETENTION_INTERVAL_S`` (3600) seconds. Deleting is idempotent, so copies of a service
purging at once do no harm. The job stream trims itself (``NATS_STREAM_MAX_AGE_DAYS``) and the
staging bucket expires its objects (its TTL); what is left is each owner's tables and files.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

log = logging.getLogger(__name__)
SECONDS_PER_DAY = 86_400.0

PurgeFn = Callable[[float], Awaitable[int]]  # older than this many seconds -> how many deleted


class Purge:
    """Runs ``purge`` in the background for as long as the service runs."""

    def __init__(self, what: str, purge: PurgeFn, days: float, interval_s: float) -> None:
        self.what, self.purge, self.days, self.interval_s = what, purge, days, interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.days > 0:
            self._task = asyncio.create_task(self._run(), name=f"purge-{self.what}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    async def once(self) -> int:
        count = await self.purge(self.days * SECONDS_PER_DAY)
        if count:
            log.info("purged", extra={"what": self.what, "count": count, "older_than_days": self.days})
        return count

    async def _run(self) -> None:
        while True:
            try:
                await self.once()
            except Exception as error:  # a dependency is down: the next round tries again
                log.warning("purge failed", extra={"what": self.what, "error": type(error).__name__})
            await asyncio.sleep(self.interval_s)
