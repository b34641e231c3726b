"""The progress projections against real PostgreSQL and Valkey: once per event, append-only."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from redis.asyncio import Redis

from contracts import keys
from contracts.envelope import Envelope
from contracts.events import ConversionProgressed, JobSubmitted
from contracts.sse import SseEntry
from services.progress import handlers
from services.progress.adapters.redis import SseBuffer


@pytest.fixture
async def deps(stack_env: dict[str, str]) -> AsyncIterator[handlers.Deps]:
    pool = await asyncpg.create_pool(stack_env["DATABASE_URL"], min_size=1, max_size=2)
    redis = Redis(host="127.0.0.1", port=int(stack_env["REDIS_PORT"]), decode_responses=True)
    yield handlers.Deps(pool=pool, buffer=SseBuffer(redis))
    await redis.aclose()
    await pool.close()


def events(job_id: str) -> list[Envelope]:
    return [Envelope.wrap(JobSubmitted(job_id=job_id, source="api", filename="x.md", content_type="text/markdown",
                                       size_bytes=4, sha256="d" * 64, staging_object=job_id)),
            Envelope.wrap(ConversionProgressed(job_id=job_id, source="converter", stage="converting",
                                               progress=60))]


def fresh_seq() -> int:
    """Sequences far above what the running stack uses, unique per test."""
    return 10**12 + uuid.uuid4().int % 10**9 * 10


async def test_each_event_is_projected_once(deps: handlers.Deps) -> None:
    job_id, base = str(uuid.uuid4()), fresh_seq()
    first, second = events(job_id)
    live = deps.buffer.redis.pubsub()
    await live.subscribe(keys.sse_live(job_id))
    for _ in range(3):  # redelivery
        await handlers.on_job_event(first, base, deps)
        await handlers.on_job_event(second, base + 1, deps)

    archived = await deps.pool.fetchval("SELECT count(*) FROM event_archive WHERE job_id = $1", job_id)
    job = await deps.pool.fetchrow("SELECT status, progress, last_seq FROM jobs WHERE job_id = $1", job_id)
    buffered = await deps.buffer.redis.zrange(keys.sse_events(job_id), 0, -1, withscores=True)
    announced, deadline = [], time.monotonic() + 3
    while time.monotonic() < deadline and len(announced) < 3:  # a third would be a duplicate
        message = await live.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message is not None:
            announced.append(SseEntry.from_json(message["data"]).id)
    await live.aclose()

    assert archived == 2
    assert (job["status"], job["progress"], job["last_seq"]) == ("converting", 60, base + 1)
    assert [int(score) for _, score in buffered] == [base, base + 1]
    assert announced == [base, base + 1]
    ttl = await deps.buffer.redis.ttl(keys.sse_events(job_id))
    assert 0 < ttl <= keys.SSE_BUFFER_TTL_S


async def test_the_event_archive_is_append_only(deps: handlers.Deps) -> None:
    job_id, seq = str(uuid.uuid4()), fresh_seq()
    await handlers.on_job_event(events(job_id)[0], seq, deps)
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await deps.pool.execute("UPDATE event_archive SET source = 'x' WHERE seq = $1", seq)
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await deps.pool.execute("DELETE FROM event_archive WHERE seq = $1", seq)
