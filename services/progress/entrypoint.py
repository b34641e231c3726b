"""Turns fetched message batches into projection calls."""

from __future__ import annotations

from nats.js import JetStreamContext

from contracts.subjects import ALL_JOB_EVENTS, job_events
from runtime import bus
from runtime.batches import BatchConsumer, Incoming, job_events_between
from runtime.settings import CommonSettings
from services.progress import handlers

BATCH = 512
MAX_ACK_PENDING = 16 * BATCH


def consumer(js: JetStreamContext, deps: handlers.Deps, settings: CommonSettings) -> BatchConsumer:
    async def lookup(job_id: str, after: int, before: int) -> list[Incoming]:
        return await job_events_between(js, job_events(job_id), after, before)

    async def project(batch: list[Incoming], ack_floor: int) -> None:
        await handlers.on_job_events(batch, ack_floor, deps)

    deps.lookup = lookup
    config = bus.consumer_config(settings)
    # Unacknowledged messages the consumer hands out across all copies: room for every copy's
    # batch (the default, 1000, would stall a fifth copy's fetch until its timeout).
    config.max_ack_pending = MAX_ACK_PENDING
    return BatchConsumer(
        js, ALL_JOB_EVENTS, "progress", config, project, batch=BATCH, policy=settings.reconnect_policy()
    )
