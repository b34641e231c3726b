"""Turns bus messages into typed events and hands them to the handlers."""

from __future__ import annotations

from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsMessage

from contracts.events import UploadStored, decode
from contracts.subjects import any_job
from services.converter import handlers
from services.runtime import bus


def register(broker: NatsBroker, deps: handlers.Deps) -> None:
    @bus.consumer(broker, any_job(UploadStored.event_type), durable="converter")
    async def upload_stored(message: NatsMessage) -> None:
        envelope, _ = bus.read(message)
        await handlers.on_upload_stored(decode(envelope), deps)
