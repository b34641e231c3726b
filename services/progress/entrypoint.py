"""Turns fetched message batches into projection calls."""

from __future__ import annotations

from nats.js import JetStreamContext

from contracts.subjects import (
    ALL_JOB_EVENTS,
    PROGRESS_BATCH,
    PROGRESS_CONSUMER,
    PROGRESS_MAX_ACK_PENDING,
    job_events,
)
from runtime import bus
from runtime.batches import BatchConsumer, Incoming, job_events_between
from runtime.settings import CommonSettings
from services.progress import handlers


def consumer(js: JetStreamContext, deps: handlers.Deps, settings: CommonSettings) -> BatchConsumer:
    async def lookup(job_id: str, after: int, before: int) -> list[Incoming]:
        return await job_events_between(js, job_events(job_id), after, before)

    async def project(batch: list[Incoming], ack_floor: int) -> None:
        await handlers.on_job_events(batch, ack_floor, deps)

    deps.lookup = lookup
    config = bus.consumer_config(settings)
    config.max_ack_pending = PROGRESS_MAX_ACK_PENDING
    return BatchConsumer(
        js,
        ALL_JOB_EVENTS,
        PROGRESS_CONSUMER,
        config,
        project,
        batch=PROGRESS_BATCH,
        policy=settings.reconnect_policy(),
    )
