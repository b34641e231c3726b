"""Rate limits: one atomic Lua call per request on ``ratelimit:{subject}:{endpoint}`` (a sorted
set of accepted requests scored by the Redis server's clock, TTL = the window), with the same
sliding window in this process's memory while Redis is down."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from prometheus_client import Counter
from redis.asyncio import Redis

from contracts import keys
from services.api.adapters.fallback import RedisFallback
from services.api.domain import Decision, Policy, slide

REJECTIONS = Counter("docling_rate_limit_rejections", "Requests refused with 429, by endpoint", ["endpoint"])

# KEYS[1] the window; ARGV: limit, window in microseconds, a unique member suffix.
# Returns {allowed (1|0), remaining, microseconds until a slot frees (0 when allowed)}.
SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, now .. ':' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  return {1, limit - count - 1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, 0, math.max(0, tonumber(oldest[2]) + window - now)}
"""


class RateLimiter:
    def __init__(self, redis: Redis, fallback: RedisFallback, clock: Callable[[], float] = time.time) -> None:
        self.fallback, self.clock = fallback, clock
        self.script = redis.register_script(SLIDING_WINDOW)
        self._memory: dict[str, list[float]] = {}

    async def check(self, subject: str, policy: Policy) -> Decision:
        key = keys.ratelimit(subject, policy.endpoint)
        answered, reply = await self.fallback.attempt(
            lambda: self.script(
                keys=[key], args=[policy.limit, policy.window_s * 1_000_000, uuid.uuid4().hex]
            )
        )
        if answered:
            allowed, remaining, wait_us = (int(x) for x in reply)
            decision = Decision(bool(allowed), remaining, wait_us / 1_000_000)
        else:
            decision, self._memory[key] = slide(self._memory.get(key, []), self.clock(), policy)
            if len(self._memory) > 100_000:
                self._memory.pop(next(iter(self._memory)))
        if not decision.allowed:
            REJECTIONS.labels(endpoint=policy.endpoint).inc()
        return decision
