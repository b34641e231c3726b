"""Turns bus messages into typed events and hands them to the handlers."""

from __future__ import annotations

from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage

from contracts.events import UploadStored, decode
from contracts.subjects import STREAM, any_job
from services.converter import handlers
from services.runtime import bus


def register(broker: NatsBroker, deps: handlers.Deps) -> None:
    @broker.subscriber(
        any_job(UploadStored.event_type),
        stream=JStream(STREAM, declare=False),
        durable="converter",
        pull_sub=PullSub(batch_size=1, timeout=5.0),
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def upload_stored(message: NatsMessage) -> None:
        envelope, _ = bus.read(message)
        await handlers.on_upload_stored(decode(envelope), deps)
