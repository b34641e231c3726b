"""Turns bus messages into typed events and hands them to the handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsMessage

from contracts.events import JobCancelRequested, UploadStored, decode
from contracts.subjects import any_job
from runtime import bus
from services.converter import handlers
from services.converter.settings import ConverterSettings

UPLOADS_CONSUMER = "converter"  # its messages may wait for their owner's share: unlimited deliveries


def register(
    broker: NatsBroker,
    deps: handlers.Deps,
    settings: ConverterSettings,
    waits: Callable[[str], Awaitable[int]],
) -> None:
    # a job waiting for its owner's share is put back as often as it takes: only failed deliveries
    # count toward NATS_MAX_DELIVER (the waits are counted in Redis, fair:waits:{jobId})
    @bus.consumer(
        broker,
        any_job(UploadStored.event_type),
        UPLOADS_CONSUMER,
        settings,
        settings.concurrency,
        max_deliver=bus.UNLIMITED_DELIVERIES,
    )
    async def upload_stored(message: NatsMessage) -> None:
        envelope, _ = bus.read(message)
        event = decode(envelope)
        await bus.handle(
            message,
            settings,
            lambda: handlers.on_upload_stored(event, deps),
            lambda: handlers.give_up(event, deps),
            waited=lambda: waits(event.job_id),
        )

    @bus.consumer(broker, any_job(JobCancelRequested.event_type), "converter-cancel", settings)
    async def cancel_requested(message: NatsMessage) -> None:
        envelope, _ = bus.read(message)
        event = decode(envelope)

        async def nothing_more() -> None:  # a cancel that fails every delivery leaves the job as it is
            return None

        await bus.handle(message, settings, lambda: handlers.on_cancel_requested(event, deps), nothing_more)
