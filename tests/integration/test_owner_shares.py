"""Each owner's share of conversions on the real Redis: the limit holds across converter copies,
other owners are not affected, a released or lapsed lease frees the place, Redis away lets jobs start."""

from __future__ import annotations

import uuid

import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.retry import Retry

from contracts import keys
from devstack.ports import free_ports
from services.converter.adapters.shares import OwnerShares
from tests.waiting import wait_for_async


def client(port: int, password: str | None = None) -> aioredis.Redis:
    return aioredis.Redis(
        host="127.0.0.1",
        port=port,
        password=password,
        socket_timeout=1,
        socket_connect_timeout=1,
        retry=Retry(NoBackoff(), 0),
    )


def stack_client(stack_env: dict[str, str]) -> aioredis.Redis:
    """The stack's Valkey, logged in (a refused login would look like Redis away: no limit)."""
    return client(int(stack_env["REDIS_PORT"]), stack_env["REDIS_PASSWORD"])


def owner() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex  # 64 hex digits, like a real owner hash


async def test_the_share_holds_across_copies_and_a_release_frees_a_place(stack_env) -> None:
    redis = stack_client(stack_env)
    first, second = (OwnerShares(redis, limit=2, lease_s=30.0, waits_ttl_s=60.0) for _ in range(2))
    a, b = owner(), owner()
    jobs = [str(uuid.uuid4()) for _ in range(3)]
    assert await first.take(a, jobs[0]) == 0
    assert await second.take(a, jobs[1]) == 0
    assert await first.take(a, jobs[2]) == 1  # the third waits, on either copy
    assert await second.take(a, jobs[2]) == 2
    assert await first.waits(jobs[2]) == 2 and await first.waits(jobs[0]) == 0
    assert await second.take(b, str(uuid.uuid4())) == 0  # another owner has a share of its own
    assert await second.take(a, jobs[0]) == 0  # a job holding a lease keeps it (a redelivery)
    await second.release(a, jobs[0])
    assert await first.take(a, jobs[2]) == 0
    assert set(await redis.zrange(keys.owner_active(a), 0, -1)) == {jobs[1].encode(), jobs[2].encode()}
    assert 0 < await redis.pttl(keys.owner_active(a)) <= 30_000
    await redis.delete(keys.owner_active(a), keys.owner_active(b), keys.owner_waits(jobs[2]))
    await redis.aclose()


async def test_a_lease_nobody_renews_lapses_and_renewing_keeps_a_job_counted(stack_env) -> None:
    redis = stack_client(stack_env)
    shares = OwnerShares(redis, limit=1, lease_s=0.5, waits_ttl_s=60.0)
    a, held, waiting = owner(), str(uuid.uuid4()), str(uuid.uuid4())
    assert await shares.take(a, held) == 0
    assert await shares.take(a, waiting) > 0
    # the holder's copy is gone (SIGKILL): nobody renews, and the place comes free by itself
    await wait_for_async(lambda: _taken(shares, a, waiting), 10, "the lapsed lease to free its place")
    await shares.release(a, waiting)
    await shares.renew(a, held)  # a running job counts again, even after its lease had lapsed
    assert await shares.take(a, waiting) > 0
    await redis.delete(keys.owner_active(a), keys.owner_waits(waiting))
    await redis.aclose()


async def _taken(shares: OwnerShares, owner_hash: str, job_id: str) -> bool:
    return await shares.take(owner_hash, job_id) == 0


async def test_without_redis_every_job_starts() -> None:
    (port,) = free_ports(1)
    shares = OwnerShares(client(port), limit=1, lease_s=30.0, waits_ttl_s=60.0)
    a = owner()
    assert await shares.take(a, "one") == 0 and await shares.take(a, "two") == 0
    assert await shares.waits("two") == 0
    await shares.release(a, "one")  # nothing to release it from: it would lapse
