"""A job's outcome, read from the event log and awaited on it: no projection, no polling.

JetStream stores every terminal event on ``jobs.<id>.outcome`` (one per job), and a core NATS
subscription on that subject sees it as it is published. Subscribe first, then look: an outcome
stored in between is seen by the look, one published after by the subscription.

A core subscriber can see a message before JetStream has stored it (the server hands it to
subscribers and to the stream separately), so an outcome seen live is recorded only once the stream
holds it: whoever is told "ended" can then read the outcome back, from any API copy.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js.errors import NotFoundError

from contracts.envelope import Envelope
from contracts.events import ConversionStarted
from contracts.subjects import STREAM, event_subject, outcome_subject
from runtime import bus

FIRST_RECHECK_S, LAST_RECHECK_S = 0.002, 0.1  # the gaps between looks for a live outcome's stored copy


class Watch:
    """The outcomes of a set of jobs, filled as they arrive."""

    def __init__(self, job_ids: list[str]) -> None:
        self.pending, self.outcomes = set(job_ids), dict[str, Envelope]()
        self.changed = asyncio.Event()
        self.version = 0  # outcomes recorded so far

    def record(self, envelope: Envelope) -> None:
        if envelope.job_id in self.pending:
            self.pending.discard(envelope.job_id)
            self.outcomes[envelope.job_id] = envelope
            self.version += 1
            self.changed.set()

    async def all_ended(self, timeout_s: float) -> bool:
        """True once every job has its outcome; False when ``timeout_s`` passed first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self.pending:
            self.changed.clear()
            try:
                async with asyncio.timeout_at(deadline):
                    await self.changed.wait()
            except TimeoutError:
                return False
        return True

    async def any_change(self, seen: int, timeout_s: float) -> None:
        """Return once more outcomes than ``seen`` are recorded, or when ``timeout_s`` passes."""
        if self.version > seen:
            return
        self.changed.clear()  # no await since the check: an outcome cannot slip in between
        if self.pending:
            try:
                async with asyncio.timeout(timeout_s):
                    await self.changed.wait()
            except TimeoutError:
                pass


class Outcomes:
    def __init__(self, broker: NatsBroker) -> None:
        self.broker = broker

    @asynccontextmanager
    async def watching(self, job_ids: list[str]) -> AsyncIterator[Watch]:
        """Subscribe to the jobs' outcomes, then read the ones already stored."""
        watch = Watch(job_ids)

        async def arrived(message: Msg) -> None:
            watch.record(await self._stored(message.subject))

        subscriptions = [
            await self.broker.connection.subscribe(outcome_subject(job_id), cb=arrived) for job_id in job_ids
        ]
        try:
            for job_id in job_ids:
                if (found := await self.outcome(job_id)) is not None:
                    watch.record(found)
            yield watch
        finally:
            for subscription in subscriptions:
                await subscription.unsubscribe()

    async def _stored(self, subject: str) -> Envelope:
        """The stored copy of an outcome just seen live, once the stream holds it (it is on its way:
        the look repeats at growing gaps until it is there, or until the watch ends)."""
        gap = FIRST_RECHECK_S
        while True:
            with suppress(TimeoutError, NatsError):  # the bus is briefly away: look again
                if (stored := await self._last(subject)) is not None:
                    return stored
            await asyncio.sleep(gap)
            gap = min(gap * 2, LAST_RECHECK_S)

    async def outcome(self, job_id: str) -> Envelope | None:
        return await self._last(outcome_subject(job_id))

    async def started(self, job_id: str) -> bool:
        return await self._last(event_subject(job_id, ConversionStarted.event_type)) is not None

    async def _last(self, subject: str) -> Envelope | None:
        try:
            message = await bus.jetstream(self.broker).get_last_msg(STREAM, subject, direct=True)
        except NotFoundError:
            return None
        return Envelope.from_bytes(message.data) if message.data else None
