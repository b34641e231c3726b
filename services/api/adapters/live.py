"""The Redis side of live progress: the replay buffer and the live announcements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from contracts import keys
from contracts.sse import SseEntry


class LiveFeed:
    def __init__(self, pubsub: PubSub) -> None:
        self.pubsub = pubsub

    async def next(self, timeout: float) -> SseEntry | None:
        message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
        return None if message is None else SseEntry.from_json(message["data"])


class EventFeed:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def buffered_after(self, job_id: str, after: int) -> list[SseEntry] | None:
        """Buffered events after ``after``; None when the job has no buffer (expired or never made)."""
        key = keys.sse_events(job_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            exists, raw = await pipe.exists(key).zrangebyscore(key, f"({after}", "+inf").execute()
        return [SseEntry.from_json(r) for r in raw] if exists else None

    @asynccontextmanager
    async def subscribe(self, job_id: str) -> AsyncIterator[LiveFeed]:
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(keys.sse_live(job_id))
        try:
            yield LiveFeed(pubsub)
        finally:
            await pubsub.aclose()
