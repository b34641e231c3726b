"""Live announcements on the real Redis: one subscription per API instance, shared by its streams."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from contracts import keys
from contracts.sse import SseEntry
from services.api.adapters.live import QUEUE_MAX, EventFeed, FeedLost
from tests.waiting import wait_for_async

NAME = "live-hub-test"  # this test's Redis connections, told apart from the stack's own


# the API's own client (no retry: a cut connection raises) and redis-py's default (it reconnects and
# subscribes again by itself, and what was announced in between is lost either way)
RETRIES = {"api": {"retry": Retry(NoBackoff(), 0)}, "default": {}}


@pytest.fixture(params=list(RETRIES))
async def redis(stack_env: dict[str, str], request: pytest.FixtureRequest) -> AsyncIterator[Redis]:
    client = Redis(
        host=stack_env["REDIS_HOST"],
        port=int(stack_env["REDIS_PORT"]),
        password=stack_env["REDIS_PASSWORD"],
        decode_responses=True,
        client_name=NAME,
        **RETRIES[request.param],
    )
    yield client
    await client.aclose()


def entry(number: int, job_id: str) -> str:
    return SseEntry(number, "ConversionProgressed", {"job_id": job_id}).to_json()


async def subscribers(redis: Redis) -> int:
    """Redis connections of this test that hold a subscription."""
    return len([c for c in await redis.client_list(_type="pubsub") if c["name"] == NAME])


async def test_every_stream_shares_one_subscription_and_gets_its_own_job(redis: Redis) -> None:
    feed = EventFeed(redis)
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    async with feed.subscribe(a) as first, feed.subscribe(a) as second, feed.subscribe(b) as other:
        assert await subscribers(redis) == 1
        numsub = dict(await redis.pubsub_numsub(keys.sse_live(a), keys.sse_live(b)))
        assert numsub == {keys.sse_live(a): 1, keys.sse_live(b): 1}
        await redis.publish(keys.sse_live(a), entry(1, a))
        await redis.publish(keys.sse_live(b), entry(7, b))
        assert (await first.next(30)).id == 1
        assert (await second.next(30)).id == 1
        assert (await other.next(30)).id == 7  # b's stream got b's, not a's, which came first
    await wait_for_async(lambda: not feed.hub.channels, 30, "the channels to be let go")
    await wait_for_async(lambda: _no_subscriber(redis), 30, "the last stream's exit to end the subscription")
    await feed.aclose()


async def _no_subscriber(redis: Redis) -> bool:
    return await subscribers(redis) == 0


async def test_a_stream_that_stops_reading_is_ended_not_queued_without_bound(redis: Redis) -> None:
    feed = EventFeed(redis)
    job_id = str(uuid.uuid4())
    async with feed.subscribe(job_id) as stalled, feed.subscribe(job_id) as reading:
        for number in range(1, QUEUE_MAX + 2):
            await redis.publish(keys.sse_live(job_id), entry(number, job_id))
            assert (await reading.next(30)).id == number  # the one that reads keeps up
        got = [(await stalled.next(30)).id for _ in range(QUEUE_MAX)]
        assert got == list(range(1, QUEUE_MAX + 1))
        with pytest.raises(FeedLost):
            await stalled.next(30)
        await redis.publish(keys.sse_live(job_id), entry(QUEUE_MAX + 2, job_id))
        assert (await reading.next(30)).id == QUEUE_MAX + 2  # the other stream goes on
    await feed.aclose()


async def test_a_cut_subscription_ends_every_stream_and_the_next_one_subscribes_again(redis: Redis) -> None:
    feed = EventFeed(redis)
    job_id = str(uuid.uuid4())
    async with feed.subscribe(job_id) as one, feed.subscribe(str(uuid.uuid4())) as two:
        ours = [c["id"] for c in await redis.client_list(_type="pubsub") if c["name"] == NAME]
        assert len(ours) == 1
        await redis.client_kill_filter(_id=ours[0])  # the hub's connection, cut by the server
        for stream in (one, two):
            with pytest.raises(FeedLost):
                await stream.next(30)
    async with feed.subscribe(job_id) as again:
        await redis.publish(keys.sse_live(job_id), entry(2, job_id))
        assert (await again.next(30)).id == 2
    await feed.aclose()
