"""Turns bus messages into typed events and hands them to the handlers."""

from __future__ import annotations

from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsMessage

from contracts.subjects import ALL_JOB_EVENTS
from services.progress import handlers
from services.runtime import bus


def register(broker: NatsBroker, deps: handlers.Deps) -> None:
    @bus.consumer(broker, ALL_JOB_EVENTS, durable="progress")
    async def job_event(message: NatsMessage) -> None:
        envelope, seq = bus.read(message)
        await handlers.on_job_event(envelope, seq, deps)
