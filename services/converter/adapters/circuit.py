"""The circuit breaker's state in Redis (``circuit:{serviceName}``), shared by every converter copy.

Each operation reads the circuit, applies the pure rule from ``services.converter.breaker`` with the
Redis server's clock, and writes the result back in one optimistic transaction (WATCH/MULTI), so
copies never overwrite each other and exactly one of them wins the half-open trial. When Redis
cannot be reached the copy falls back to its own in-memory circuit (same rules, local clock) until
Redis answers again, and says so in its log and in ``docling_circuit_breaker_fallback``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from prometheus_client import Counter, Gauge
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.exceptions import WatchError

from contracts import keys
from services.converter import breaker
from services.converter.breaker import Admission, Circuit, Config, State

log = logging.getLogger(__name__)

STATE_VALUE = {State.CLOSED: 0, State.HALF_OPEN: 1, State.OPEN: 2}
STATE = Gauge(
    "docling_circuit_breaker_state",
    "Circuit breaker state as this copy last saw it: 0 closed, 1 half-open, 2 open",
    ["service"],
)
TRANSITIONS = Counter(
    "docling_circuit_breaker_transitions_total",
    "Circuit breaker transitions made by this copy",
    ["service", "from_state", "to_state"],
)
TRIALS = Counter(
    "docling_circuit_breaker_trials_total",
    "Half-open trial calls run by this copy, by outcome",
    ["service", "outcome"],
)
FAILURES = Counter(
    "docling_circuit_breaker_failures_total",
    "MCP failures that count toward the circuit, by application code",
    ["service", "code"],
)
FALLBACK = Gauge(
    "docling_circuit_breaker_fallback",
    "1 while this copy uses its own in-memory circuit because Redis is unreachable",
    ["service"],
)
FALLBACKS = Counter(
    "docling_circuit_breaker_fallbacks_total",
    "Times this copy switched to its in-memory circuit",
    ["service"],
)

Probe = Callable[[], Awaitable[None]]  # the trial: raises when the server is still sick
Rule = Callable[[Circuit, float], tuple[Circuit, object]]
REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)


class SharedCircuit:
    def __init__(
        self,
        service: str,
        config: Config,
        redis: aioredis.Redis,
        probe: Probe,
        local_clock: Callable[[], float] = time.time,
    ) -> None:
        self.service, self.config, self.redis, self.probe = service, config, redis, probe
        self.key = keys.circuit(service)
        self.local = Circuit()  # used only while Redis is unreachable
        self.local_clock = local_clock
        self.fallback = False
        STATE.labels(service).set(0)
        FALLBACK.labels(service).set(0)

    async def admit(self) -> Admission:
        """``call``: go ahead. ``wait``: the circuit is open, try again at ``retry_at``. When this
        copy wins the half-open trial it runs the probe here: the circuit closes (``call``) or
        opens again (``wait``)."""
        admission = await self._apply(lambda c, now: breaker.admit(c, self.config, now))
        if admission.kind != "trial":
            return admission
        log.info("circuit half-open: running the trial", extra={"circuit": self.service})
        try:
            await self.probe()
        except Exception as error:
            TRIALS.labels(self.service, "failed").inc()
            code = getattr(error, "code", "E206")
            log.warning(
                "circuit trial failed",
                extra={"circuit": self.service, "code": code, "error": type(error).__name__},
            )
            await self._apply(lambda c, now: (breaker.failed(c, self.config, now, code, trial=True), None))
            return await self._apply(lambda c, now: breaker.admit(c, self.config, now))
        TRIALS.labels(self.service, "succeeded").inc()
        await self._apply(lambda c, now: (breaker.succeeded(c, self.config, now, trial=True), None))
        return breaker.CALL

    async def failed(self, code: str) -> None:
        FAILURES.labels(self.service, code).inc()
        await self._apply(lambda c, now: (breaker.failed(c, self.config, now, code, trial=False), None))

    async def current(self) -> Circuit:
        return await self._apply(lambda c, now: (c, c))

    async def _apply(self, rule: Rule) -> object:
        try:
            before, after, result = await self._apply_shared(rule)
            self._redis_back()
        except REDIS_ERRORS as error:
            self._redis_lost(error)
            before = self.local
            self.local, result = rule(self.local, self.local_clock())
            after = self.local
        self._observe(before, after)
        return result

    async def _apply_shared(self, rule: Rule) -> tuple[Circuit, Circuit, object]:
        # the common case changes nothing (a closed circuit admits a call): one round trip, no WATCH
        (seconds, micros), raw = await self.redis.pipeline(transaction=False).time().get(self.key).execute()
        before = Circuit.from_json(raw)
        after, result = rule(before, seconds + micros / 1e6)
        if after == before:
            return before, after, result
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(self.key)
                    seconds, micros = await pipe.time()
                    before = Circuit.from_json(await pipe.get(self.key))
                    after, result = rule(before, seconds + micros / 1e6)
                    if after == before:
                        await pipe.unwatch()
                        return before, after, result
                    pipe.multi()
                    pipe.set(self.key, after.to_json())
                    await pipe.execute()
                    return before, after, result
                except WatchError:  # another copy changed the circuit meanwhile: read it again
                    continue

    def _observe(self, before: Circuit, after: Circuit) -> None:
        STATE.labels(self.service).set(STATE_VALUE[after.state])
        if before.state is after.state:
            return
        TRANSITIONS.labels(self.service, before.state.value, after.state.value).inc()
        log.warning(
            "circuit %s -> %s",
            before.state.value,
            after.state.value,
            extra={
                "circuit": self.service,
                "from_state": before.state.value,
                "to_state": after.state.value,
                "code": after.code,
                "shared": not self.fallback,
            },
        )

    def _redis_lost(self, error: BaseException) -> None:
        if not self.fallback:
            self.fallback = True
            FALLBACK.labels(self.service).set(1)
            FALLBACKS.labels(self.service).inc()
            log.warning(
                "Redis unreachable: this copy uses its own in-memory circuit",
                extra={"circuit": self.service, "error": type(error).__name__},
            )

    def _redis_back(self) -> None:
        if self.fallback:
            self.fallback = False
            FALLBACK.labels(self.service).set(0)
            log.warning("Redis reachable again: back to the shared circuit", extra={"circuit": self.service})
