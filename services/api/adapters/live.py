"""The Redis side of live progress: the replay buffer and the live announcements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from contracts import keys
from contracts.sse import SseEntry
from services.api.adapters.fallback import REDIS_DOWN


class LiveFeed:
    def __init__(self, pubsub: PubSub) -> None:
        self.pubsub = pubsub

    async def next(self, timeout: float) -> SseEntry | None:
        message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
        return None if message is None else SseEntry.from_json(message["data"])


class EventFeed:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def buffered_after(self, job_id: str, after: int, upto: int | None = None) -> list[SseEntry]:
        """Buffered events numbered after ``after`` (up to ``upto``); [] when the buffer is gone."""
        top = "+inf" if upto is None else upto
        try:
            raw = await self.redis.zrangebyscore(keys.sse_events(job_id), f"({after}", top)
        except REDIS_DOWN:  # Redis is down: the archive answers instead
            return []
        return [SseEntry.from_json(r) for r in raw]

    @asynccontextmanager
    async def subscribe(self, job_id: str) -> AsyncIterator[LiveFeed]:
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(keys.sse_live(job_id))
        try:
            yield LiveFeed(pubsub)
        finally:
            await pubsub.aclose()
