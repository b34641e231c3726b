"""Turns bus messages into typed events and hands them to the handlers."""

from __future__ import annotations

from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsMessage

from contracts.events import JobSubmitted, decode
from contracts.subjects import any_job
from runtime import bus
from runtime.settings import CommonSettings
from services.ingest import handlers


def register(broker: NatsBroker, deps: handlers.Deps, settings: CommonSettings) -> None:
    @bus.consumer(broker, any_job(JobSubmitted.event_type), "ingest", settings)
    async def job_submitted(message: NatsMessage) -> None:
        envelope, _ = bus.read(message)
        event = decode(envelope)
        await bus.handle(
            message,
            settings,
            lambda: handlers.on_job_submitted(event, deps),
            lambda: handlers.give_up(event, deps),
        )
