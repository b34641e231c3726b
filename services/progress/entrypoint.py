"""Turns bus messages into typed events and hands them to the handlers."""

from __future__ import annotations

from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage

from contracts.subjects import ALL_JOB_EVENTS, STREAM
from services.progress import handlers
from services.runtime import bus


def register(broker: NatsBroker, deps: handlers.Deps) -> None:
    @broker.subscriber(
        ALL_JOB_EVENTS,
        stream=JStream(STREAM, declare=False),
        durable="progress",
        pull_sub=PullSub(batch_size=32, timeout=5.0),
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def job_event(message: NatsMessage) -> None:
        envelope, seq = bus.read(message)
        await handlers.on_job_event(envelope, seq, deps)
