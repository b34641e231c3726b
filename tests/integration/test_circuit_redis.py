"""The shared circuit on the real Redis: copies agree, one trial at a time, memory when Redis is gone."""

from __future__ import annotations

import asyncio
import json
import uuid

import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.retry import Retry

from contracts import keys
from devstack.ports import free_ports
from services.converter.adapters.circuit import FALLBACK, SharedCircuit
from services.converter.breaker import Config, State
from tests.waiting import wait_for_async

CONFIG = Config(failure_threshold=3, reset_timeout_s=0.5, window_s=60.0, trial_lease_s=30.0)


def client(port: int, password: str | None = None) -> aioredis.Redis:
    return aioredis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=1,
                          socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))  # fmt: skip


async def never_called() -> None:
    raise AssertionError("no trial expected")


async def test_failures_from_two_copies_open_one_shared_circuit(stack_env) -> None:
    name = f"test-{uuid.uuid4().hex[:8]}"
    redis = client(int(stack_env["REDIS_PORT"]), stack_env["REDIS_PASSWORD"])
    first, second = (SharedCircuit(name, CONFIG, redis, never_called) for _ in range(2))
    await first.failed("E206")
    await second.failed("E206")
    assert (await first.current()).state is State.CLOSED
    await second.failed("E207")
    stored = json.loads(await redis.get(keys.circuit(name)))
    assert stored["state"] == "OPEN" and stored["code"] == "E207"
    admission = await first.admit()
    assert admission.waits and admission.code == "E207"
    await redis.delete(keys.circuit(name))
    await redis.aclose()


async def test_exactly_one_trial_runs_across_copies(stack_env) -> None:
    name = f"test-{uuid.uuid4().hex[:8]}"
    redis = client(int(stack_env["REDIS_PORT"]), stack_env["REDIS_PASSWORD"])
    trials, others_answered = [], asyncio.Event()

    async def probe() -> None:
        trials.append(1)
        await others_answered.wait()  # the trial runs until every other caller has had its answer

    copies = [SharedCircuit(name, CONFIG, redis, probe) for _ in range(4)]
    for _ in range(3):
        await copies[0].failed("E206")
    await asyncio.sleep(CONFIG.reset_timeout_s + 0.1)  # the reset timeout, on the Redis clock
    asking = [asyncio.ensure_future(copy.admit()) for copy in copies for _ in range(5)]
    await wait_for_async(lambda: sum(a.done() for a in asking) == len(asking) - 1, 30, "19 answers")
    others_answered.set()
    admissions = await asyncio.gather(*asking)
    assert len(trials) == 1
    assert sum(not a.waits for a in admissions) == 1  # the trial's own caller goes on
    assert all(a.waits for a in admissions if a.kind != "call")
    assert json.loads(await redis.get(keys.circuit(name)))["state"] == "CLOSED"
    assert all(not a.waits for a in await asyncio.gather(*(copy.admit() for copy in copies)))
    await redis.delete(keys.circuit(name))
    await redis.aclose()


async def test_without_redis_a_copy_falls_back_to_its_own_circuit_and_says_so() -> None:
    [port] = free_ports(1)  # a port nothing listens on
    name = f"test-{uuid.uuid4().hex[:8]}"
    redis = client(port)
    circuit = SharedCircuit(name, CONFIG, redis, never_called)
    assert not (await circuit.admit()).waits
    assert circuit.fallback and FALLBACK.labels(name)._value.get() == 1
    for _ in range(3):
        await circuit.failed("E206")
    assert circuit.local.state is State.OPEN and (await circuit.admit()).waits
    await redis.aclose()


async def test_a_copy_returns_to_the_shared_circuit_when_redis_comes_back(stack, stack_env) -> None:
    name = f"test-{uuid.uuid4().hex[:8]}"
    redis = client(int(stack_env["REDIS_PORT"]), stack_env["REDIS_PASSWORD"])
    circuit = SharedCircuit(name, CONFIG, redis, never_called)
    await circuit.failed("E206")
    stack.stop_component("valkey")
    try:
        await circuit.failed("E206")  # Redis is gone: counted in memory
        assert circuit.fallback and len(circuit.local.failures) == 1
    finally:
        stack.start_component("valkey")
    await circuit.failed("E206")
    assert not circuit.fallback and FALLBACK.labels(name)._value.get() == 0
    stored = await redis.get(keys.circuit(name))  # a restarted Valkey may have lost the old state
    assert stored is not None and json.loads(stored)["failures"] >= 1  # written to Redis again
    await redis.delete(keys.circuit(name))
    await redis.aclose()
