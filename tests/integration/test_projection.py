"""The progress projections against real NATS, PostgreSQL and Valkey: once per event, in order."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import nats
import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from contracts import keys
from contracts.envelope import Envelope
from contracts.events import ConversionProgressed, ConversionStarted
from contracts.sse import SseEntry
from contracts.subjects import STREAM, event_subject, job_events
from runtime.batches import Incoming, job_events_between
from runtime.sse_buffer import SseBuffer
from services.api.adapters.live import EventFeed
from services.api.adapters.read_model import ReadModel
from services.api.streams import JobStream
from services.progress import handlers
from services.progress.adapters import postgres
from tests.integration.bus import Log
from tests.waiting import wait_for_async


@pytest.fixture
async def deps(stack_env: dict[str, str]) -> AsyncIterator[handlers.Deps]:
    pool = await asyncpg.create_pool(stack_env["DATABASE_URL"], min_size=1, max_size=2)
    redis = Redis(
        host="127.0.0.1",
        port=int(stack_env["REDIS_PORT"]),
        password=stack_env["REDIS_PASSWORD"],
        decode_responses=True,
    )
    nc = await nats.connect(stack_env["NATS_URL"])
    js = nc.jetstream()

    async def lookup(job_id: str, after: int, before: int) -> list[Incoming]:
        return await job_events_between(js, job_events(job_id), after, before)

    deps = handlers.Deps(pool=pool, buffer=SseBuffer(redis), lookup=lookup)
    deps.js = js
    yield deps
    await nc.close()
    await redis.aclose()
    await pool.close()


def envelopes(job_id: str) -> list[Envelope]:
    """Events no running service reacts to (only the projections see them)."""
    return [
        Envelope.wrap(ConversionStarted(job_id=job_id, source="converter", mcp_server="m")),
        Envelope.wrap(
            ConversionProgressed(job_id=job_id, source="converter", stage="converting", progress=60)
        ),
        Envelope.wrap(
            ConversionProgressed(job_id=job_id, source="converter", stage="exporting_markdown", progress=75)
        ),
    ]


async def put_in_stream(js, envelope: Envelope) -> int:
    """Store the event in the real stream. The stack's own progress projects it too, racing the
    test's projection: the outcome must be the same whoever gets there first."""
    ack = await js.publish(
        event_subject(envelope.job_id, envelope.event_type),
        envelope.to_bytes(),
        stream=STREAM,
        headers={"Nats-Msg-Id": envelope.event_id},
    )
    return ack.seq


async def rows(deps: handlers.Deps, job_id: str) -> list[tuple]:
    found = await deps.pool.fetch(
        "SELECT job_seq, seq, event_type FROM event_archive WHERE job_id = $1 ORDER BY job_seq", job_id
    )
    return [tuple(r) for r in found]


async def announcements_until_marker(live: PubSub, redis: Redis, channel: str) -> list[int]:
    """The ids announced on ``channel`` so far: a marker published now comes after every one of
    them (one connection's messages arrive in order), so reading up to it sees them all."""
    marker = f"marker-{uuid.uuid4()}"
    await redis.publish(channel, marker)
    announced: list[int] = []

    async def marker_read() -> bool:
        message = await live.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message is None:
            return False
        if message["data"] == marker:
            return True
        announced.append(SseEntry.from_json(message["data"]).id)
        return False

    await wait_for_async(marker_read, 30, "the marker on the live channel", every=0)
    return announced


async def test_each_event_is_projected_once_and_numbered(deps: handlers.Deps, log: Log) -> None:
    job_id = str(uuid.uuid4())
    live = deps.buffer.redis.pubsub()  # listening before the events exist: the stack's progress
    await live.subscribe(keys.sse_live(job_id))  # projects them too, maybe first
    confirmation = await live.get_message(timeout=5)
    assert confirmation and confirmation["type"] == "subscribe"
    items = [Incoming(e, await put_in_stream(deps.js, e)) for e in envelopes(job_id)]
    for _ in range(3):  # redelivery of the whole batch
        await handlers.on_job_events(items, 0, deps)

    await log.projected_through(items[-1].seq)  # the stack's progress has announced them too
    archived = await rows(deps, job_id)
    job = await deps.pool.fetchrow("SELECT status, progress, events FROM jobs WHERE job_id = $1", job_id)
    buffered = await deps.buffer.redis.zrange(keys.sse_events(job_id), 0, -1, withscores=True)
    announced = await announcements_until_marker(live, deps.buffer.redis, keys.sse_live(job_id))
    await live.aclose()

    assert [(n, t) for n, _, t in archived] == [
        (1, "ConversionStarted"),
        (2, "ConversionProgressed"),
        (3, "ConversionProgressed"),
    ]
    assert [seq for _, seq, _ in archived] == [i.seq for i in items]
    assert (job["status"], job["progress"], job["events"]) == ("converting", 75, 3)
    assert [int(score) for _, score in buffered] == [1, 2, 3]
    # once each; the order of announcements made by two racing projectors is not fixed (the stack's
    # progress may announce 3 while the test's call announces 2): readers fill such gaps, below
    assert sorted(announced) == [1, 2, 3]
    assert await deps.buffer.redis.hget(keys.sse_history(job_id), "last") == "3"
    assert 0 < await deps.buffer.redis.ttl(keys.sse_events(job_id)) <= keys.SSE_BUFFER_TTL_S


async def test_a_reader_sees_numbers_in_order_when_announcements_are_not(
    deps: handlers.Deps, log: Log
) -> None:
    """Two progress copies announce 3 before 2 (each commits in order, announces when it can): the
    SSE stream fills the gap from the archive and then ignores the late 2."""
    job_id = str(uuid.uuid4())
    items = [Incoming(e, await put_in_stream(deps.js, e)) for e in envelopes(job_id)]
    await log.projected_through(items[-1].seq)  # the stack's progress projects them too: let it finish
    await deps.buffer.redis.delete(keys.sse_events(job_id), keys.sse_history(job_id))
    one, two, three = await postgres.project(deps.pool, items, 0, deps.lookup)  # archived already
    await deps.buffer.add([one])
    stream = JobStream(
        job_id, 0, EventFeed(deps.buffer.redis), ReadModel(deps.pool), heartbeat_s=5, retry_ms=1000, state={}
    )
    messages = stream.messages()
    seen = []
    async for message in messages:  # the replay (1), then the sync event: now it follows live
        seen.append(message)
        if message.event == "sync":
            break
    await deps.buffer.add([three])
    await deps.buffer.add([two])
    async with asyncio.timeout(30):
        while len([m for m in seen if m.id is not None]) < 3:
            seen.append(await anext(messages))
    await messages.aclose()

    assert [m.id for m in seen if m.id is not None] == [1, 2, 3]


async def test_an_event_delivered_before_its_predecessors_waits_for_them(deps: handlers.Deps) -> None:
    """What two progress copies can do: the third event reaches one copy first."""
    job_id = str(uuid.uuid4())
    items = [Incoming(e, await put_in_stream(deps.js, e)) for e in envelopes(job_id)]
    await handlers.on_job_events([items[2]], 0, deps)  # alone: the first two come from the stream
    await handlers.on_job_events(items[:2], 0, deps)  # their own delivery, later: nothing changes
    assert await rows(deps, job_id) == [
        (1, items[0].seq, "ConversionStarted"),
        (2, items[1].seq, "ConversionProgressed"),
        (3, items[2].seq, "ConversionProgressed"),
    ]


async def test_the_event_archive_is_append_only(deps: handlers.Deps) -> None:
    job_id = str(uuid.uuid4())
    first = envelopes(job_id)[0]
    seq = await put_in_stream(deps.js, first)
    await handlers.on_job_events([Incoming(first, seq)], 0, deps)
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await deps.pool.execute("UPDATE event_archive SET source = 'x' WHERE seq = $1", seq)
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await deps.pool.execute("DELETE FROM event_archive WHERE seq = $1", seq)
