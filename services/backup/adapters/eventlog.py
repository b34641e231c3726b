"""The event log side of a restore: where the stream is, and either re-projecting its events after
the copy (it survived) or rebuilding it from the archive (it did not, or the restore goes back in
time)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import nats
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from contracts.subjects import (
    ALL_JOB_EVENTS,
    PROGRESS_CONSUMER,
    PROGRESS_MAX_ACK_PENDING,
    STREAM,
    event_subject,
)
from runtime.bus import consumer_config, stream_config
from runtime.settings import CommonSettings
from services.backup.domain import ArchivedEvent, StreamPosition

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamState:
    first_seq: int
    last_seq: int


async def connect(url: str, timeout: float = 5.0) -> nats.NATS:
    return await nats.connect(url, connect_timeout=timeout, max_reconnect_attempts=1, allow_reconnect=False)


async def position(js: JetStreamContext) -> StreamPosition | None:
    """The progress consumer's ack floor: every event at or below it is archived."""
    try:
        info = await js.consumer_info(STREAM, PROGRESS_CONSUMER)
        stream = await js.stream_info(STREAM)
    except NotFoundError:
        return None
    return StreamPosition(archived_through=info.ack_floor.stream_seq, stream_last_seq=stream.state.last_seq)


async def state(js: JetStreamContext) -> StreamState | None:
    try:
        info = await js.stream_info(STREAM)
    except NotFoundError:
        return None
    return StreamState(info.state.first_seq, info.state.last_seq)


async def reproject_after(js: JetStreamContext, settings: CommonSettings, archived_through: int) -> None:
    """Make progress read the stream again from just after the copy: its durable consumer is
    recreated to start there (progress binds to it at start; already archived events are skipped)."""
    try:
        await js.delete_consumer(STREAM, PROGRESS_CONSUMER)
    except NotFoundError:
        pass
    config: ConsumerConfig = consumer_config(settings)
    config.durable_name = PROGRESS_CONSUMER
    config.filter_subject = ALL_JOB_EVENTS
    config.max_ack_pending = PROGRESS_MAX_ACK_PENDING
    config.deliver_policy = DeliverPolicy.BY_START_SEQUENCE
    config.opt_start_seq = archived_through + 1
    await js.add_consumer(STREAM, config)


async def rebuild(
    js: JetStreamContext, settings: CommonSettings, first_seq: int, events: list[ArchivedEvent]
) -> dict[str, int]:
    """A new stream starting above every archived sequence, holding ``events`` (see
    ``domain.to_republish``) with their original ids and subjects; each job's newest sequence."""
    try:
        await js.delete_stream(STREAM)
    except NotFoundError:
        pass
    config = stream_config(settings)
    config.first_seq = first_seq
    await js.add_stream(config)
    newest: dict[str, int] = {}
    for event in events:
        ack = await js.publish(
            event_subject(event.job_id, event.event_type, event.terminal),
            event.envelope.encode(),
            stream=STREAM,
            headers={"Nats-Msg-Id": event.event_id, "Content-Type": "application/json"},
        )
        newest[event.job_id] = ack.seq
    return newest
