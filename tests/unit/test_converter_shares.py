"""The converter's per-owner share: a job over it waits (announced once, never an attempt), a job
under it converts and gives its place back on every outcome. The Lua leases themselves run
against a real Redis in tests/integration/test_owner_shares.py."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from runtime.bus import NotYet
from services.converter import handlers
from services.converter.adapters.shares import OwnerShares
from services.converter.breaker import Circuit
from services.converter.domain import ToolFailed
from tests.unit.test_converter_flow import Server, make, types, upload

OWNER = "b" * 64


class MemoryShares:
    """``OwnerShares`` on a dict: ``limit`` leases per owner, waits counted per job."""

    lease_s = 30.0

    def __init__(self, limit: int) -> None:
        self.limit, self.active, self.waited = limit, {}, {}

    async def take(self, owner, job_id):
        held = self.active.setdefault(owner, set())
        if job_id in held or len(held) < self.limit:
            held.add(job_id)
            return 0
        self.waited[job_id] = self.waited.get(job_id, 0) + 1
        return self.waited[job_id]

    async def renew(self, owner, job_id):
        return None

    async def release(self, owner, job_id):
        self.active.get(owner, set()).discard(job_id)


def owned():
    return upload().model_copy(update={"owner": OWNER})


async def test_a_job_over_its_owners_share_waits_announced_once_and_then_converts() -> None:
    deps, events, _ = make(Server())
    deps.shares = shares = MemoryShares(limit=1)
    shares.active[OWNER] = {"another-job"}
    event = owned()
    for _ in range(3):
        with pytest.raises(NotYet) as wait:
            await handlers.on_upload_stored(event, deps)
        assert wait.value.delay_s == deps.owner_wait_s
    assert types(events) == ["ConversionDeferred"]
    deferred = events[0]
    assert (deferred.code, deferred.reason, deferred.stage) == ("E118", "owner_busy", "stored")
    await shares.release(OWNER, "another-job")
    await handlers.on_upload_stored(event, deps)
    assert types(events)[1] == "ConversionStarted" and types(events)[-1] == "ConversionSucceeded"
    assert shares.active[OWNER] == set() and deps.circuit.circuit == Circuit()


async def test_the_lease_is_given_back_when_the_job_fails() -> None:
    deps, events, _ = make(Server([ToolFailed("docling could not read it")]))
    deps.shares = shares = MemoryShares(limit=1)
    await handlers.on_upload_stored(owned(), deps)
    assert types(events)[-1] == "ConversionFailed" and shares.active[OWNER] == set()


async def test_the_lease_is_given_back_when_the_job_ended_elsewhere() -> None:
    deps, events, _ = make(Server(), ended=lambda: True)
    deps.shares = shares = MemoryShares(limit=1)
    await handlers.on_upload_stored(owned(), deps)
    assert events == [] and shares.active[OWNER] == set()


async def test_a_waiting_job_that_was_cancelled_stops_waiting() -> None:
    deps, events, _ = make(Server(), ended=lambda: True)
    deps.shares = shares = MemoryShares(limit=1)
    shares.active[OWNER] = {"another-job"}
    await handlers.on_upload_stored(owned(), deps)  # no NotYet: the message is acknowledged
    assert events == []


async def test_jobs_without_an_owner_are_not_limited_and_redis_is_not_asked() -> None:
    unreachable = aioredis.Redis(host="127.0.0.1", port=1)  # never connected: no owner, no call
    shares = OwnerShares(unreachable, limit=1, lease_s=30.0, waits_ttl_s=60.0)
    assert await shares.take("", "job") == 0
    await shares.renew("", "job")
    await shares.release("", "job")
