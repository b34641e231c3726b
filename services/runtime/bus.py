"""The event log on NATS JetStream: stream declaration, publishing, reading envelopes."""

from __future__ import annotations

import logging
from collections.abc import Callable

from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from nats.js import JetStreamContext
from nats.js.object_store import ObjectStore
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

from contracts.envelope import Envelope, Event
from contracts.subjects import ALL_JOB_EVENTS, STAGING_BUCKET, STREAM, event_subject
from services.runtime.settings import CommonSettings

log = logging.getLogger(__name__)

DUPLICATE_WINDOW_S = 120.0


def stream_config(settings: CommonSettings) -> StreamConfig:
    """The job event stream: file storage, limits retention, 2-minute duplicate window."""
    return StreamConfig(
        name=STREAM,
        subjects=[ALL_JOB_EVENTS],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=settings.stream_max_age_days * 86400,
        duplicate_window=DUPLICATE_WINDOW_S,
        num_replicas=settings.stream_replicas,
        allow_direct=True,
    )


def broker(url: str, name: str) -> NatsBroker:
    """A broker whose per-message logs are debug-level and go through the JSON log handler."""
    return NatsBroker(url, name=name, logger=logging.getLogger("faststream"), log_level=logging.DEBUG)


def consumer(broker: NatsBroker, subject: str, durable: str) -> Callable:
    """A durable pull consumer on the job stream: copies of a service share its messages.

    One message a fetch, so a consumer sees a job's events in stream order (FastStream runs the
    messages of a larger fetch concurrently, which reorders them). A handler error NAKs the
    message for redelivery.
    """
    return broker.subscriber(subject, stream=JStream(STREAM, declare=False), durable=durable,
                             pull_sub=PullSub(batch_size=1, timeout=5.0),
                             ack_policy=AckPolicy.NACK_ON_ERROR)


def jetstream(broker: NatsBroker) -> JetStreamContext:
    return broker.config.connection_state.stream


async def ensure_stream(broker: NatsBroker, settings: CommonSettings) -> None:
    """Create the stream, or bring an existing one to this configuration (any copy may race)."""
    js = jetstream(broker)
    config = stream_config(settings)
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)


async def publish(broker: NatsBroker, event: Event) -> int:
    """Publish one event idempotently (``Nats-Msg-Id`` = event id); returns its stream sequence."""
    envelope = Envelope.wrap(event)
    ack = await broker.publish(
        envelope.to_bytes(),
        event_subject(event.job_id, event.event_type),
        headers={"Nats-Msg-Id": event.event_id, "Content-Type": "application/json"},
        stream=STREAM,
    )
    log.info("published", extra={"job_id": event.job_id, "event_type": event.event_type,
                                 "seq": ack.seq, "duplicate": bool(ack.duplicate)})
    return ack.seq


def read(message: NatsMessage) -> tuple[Envelope, int]:
    """The envelope of a consumed message and its stream sequence (the event's SSE id)."""
    raw = message.raw_message
    return Envelope.from_bytes(raw.data), raw.metadata.sequence.stream


STAGING_TTL_S = 24 * 3600.0


async def staging_store(broker: NatsBroker, *, declare: bool = False) -> ObjectStore:
    """The bucket where the API leaves upload bytes for ingest; leftovers expire after a day."""
    return await broker.object_storage(
        STAGING_BUCKET, ttl=STAGING_TTL_S, storage=StorageType.FILE, declare=declare
    )
