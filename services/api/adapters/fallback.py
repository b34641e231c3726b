"""Whether Redis answers, as the sessions and rate limits last saw it.

While Redis is down they keep working from this process's memory (the seed's fallback), and the
API reports itself degraded. A down Redis is asked again at most every ``RETRY_S``, so requests do
not each wait on a dead connection.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.exceptions

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_S = 1.0
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class RedisFallback:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.active = False  # True while Redis is considered down: memory answers
        self._last_failure = 0.0

    async def attempt(self, call: Callable[[], Awaitable[T]]) -> tuple[bool, T | None]:
        """(True, result) when Redis answered; (False, None) when it is down (or was just now)."""
        if self.active and self.clock() - self._last_failure < RETRY_S:
            return False, None
        try:
            result = await call()
        except REDIS_DOWN as error:
            if not self.active:
                log.warning(
                    "redis unavailable: sessions and rate limits use memory",
                    extra={"error": type(error).__name__},
                )
            self.active, self._last_failure = True, self.clock()
            return False, None
        if self.active:
            log.info("redis is back: sessions and rate limits use redis again")
        self.active = False
        return True, result
