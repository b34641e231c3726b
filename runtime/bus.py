"""The event log on NATS JetStream: stream declaration, publishing, consuming."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from faststream.security import SASLPlaintext
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import (
    APIError,
    BadRequestError,
    NoStreamResponseError,
    NotFoundError,
    ServiceUnavailableError,
)
from nats.js.object_store import ObjectStore

from contracts.envelope import Envelope, Event
from contracts.subjects import (
    ALL_JOB_EVENTS,
    STAGING_BUCKET,
    STREAM,
    event_subject,
    job_events,
    outcome_subject,
)
from runtime import metrics, outages, tracing
from runtime.links import Link
from runtime.reconnect import ReconnectPolicy, choose_server
from runtime.settings import CommonSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

DUPLICATE_WINDOW_S = 120.0
WRONG_LAST_SEQUENCE = 10071  # JetStream: Nats-Expected-Last-Subject-Sequence did not hold
# the stream has no leader for a moment (a NATS cluster electing one after a node died): no one
# answers the publish, or the answer is late; the same publish again is safe (Nats-Msg-Id dedup)
LEADERLESS = (NoStreamResponseError, NoRespondersError, ServiceUnavailableError, NatsTimeoutError)
PUBLISH_RETRY_S = 10.0  # how long a publish keeps trying through an election before it fails
# a replicated stream refuses a message whose Expected-Last-Subject-Sequence subject (the job's
# outcome subject) another message still in flight also checks: "wrong last sequence" (10164), not
# 10071 (the outcome exists). Seen in the soak: two events of one job published at once. Retried.
SUBJECT_IN_FLIGHT = 10164


class OutcomeTaken(Exception):
    """The job already has its terminal event; this event was not stored."""


class NotYet(Exception):
    """The message cannot be worked on yet (its owner's share is in use): put it back for
    ``delay_s`` without using one of its failed deliveries."""

    def __init__(self, delay_s: float) -> None:
        super().__init__(f"not yet; again in {delay_s:g} s")
        self.delay_s = delay_s


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


_LINKS: weakref.WeakKeyDictionary[NatsBroker, Link] = weakref.WeakKeyDictionary()


def servers(url: str) -> list[str]:
    """The server addresses of ``NATS_URL``: one, or every node of a cluster, comma-separated."""
    return [part.strip() for part in url.split(",") if part.strip()]


def login(url: str) -> tuple[list[str], SASLPlaintext | None]:
    """``NATS_URL``'s servers without credentials, and the login they carried (the first user and
    password found). The client gets the login once, for every server: it also reconnects to the
    nodes a cluster tells it of, whose addresses hold no credentials, so a login left in the URLs
    would be sent to the named nodes only and refused by the others."""
    bare, found = [], None
    for server in servers(url):
        parts = urlsplit(server)
        if found is None and parts.username:
            found = SASLPlaintext(username=unquote(parts.username), password=unquote(parts.password or ""))
        host = parts.netloc.rpartition("@")[2]
        bare.append(urlunsplit(parts._replace(netloc=host)))
    return bare, found


def broker(url: str, name: str, policy: ReconnectPolicy | None = None) -> NatsBroker:
    """A broker whose per-message logs are debug-level and go through the JSON log handler, with
    tracing (context in the message headers) and FastStream's Prometheus message metrics.
    ``url`` may name several servers (a cluster), comma-separated: the client uses any of them.

    It reconnects for ever (``policy``: capped, jittered backoff; nats-py alone would close the
    connection for good after 60 attempts), and its state is on :func:`link`.
    """
    policy = policy or ReconnectPolicy()
    state = Link("nats")

    async def disconnected() -> None:
        state.mark(False)

    async def reconnected() -> None:
        state.mark(True)

    async def closed() -> None:
        state.mark_closed()

    async def error(_: Exception) -> None:
        if state.up is not True:  # an attempt to (re)connect failed
            state.attempt_failed()

    addresses, credentials = login(url)
    made = NatsBroker(
        addresses,
        security=credentials,
        name=name,
        logger=logging.getLogger("faststream"),
        log_level=logging.DEBUG,
        middlewares=(tracing.broker_middleware(), metrics.broker_middleware()),
        max_reconnect_attempts=-1,
        reconnect_time_wait=policy.base_s,  # type: ignore[arg-type]  # the first connect's retries
        reconnect_to_server_handler=choose_server(policy),
        disconnected_cb=disconnected,
        reconnected_cb=reconnected,
        closed_cb=closed,
        error_cb=error,
    )
    _LINKS[made] = state
    return made


def link(broker: NatsBroker) -> Link:
    """The broker's connection state (``up`` once :func:`ensure_stream` reached the server)."""
    return _LINKS[broker]


def consumer_config(settings: CommonSettings, max_deliver: int | None = None) -> ConsumerConfig:
    return ConsumerConfig(ack_wait=settings.ack_wait_s, max_deliver=max_deliver or settings.max_deliver)


UNLIMITED_DELIVERIES = -1  # a consumer whose messages may wait (``NotYet``): ``handle`` counts failures


def consumer(
    broker: NatsBroker,
    subject: str,
    durable: str,
    settings: CommonSettings,
    concurrency: int = 1,
    max_deliver: int | None = None,
) -> Callable:
    """A durable pull consumer on the job stream: copies of a service share its messages.

    ``concurrency`` is how many messages one copy handles at once (1: one by one, in order). With
    more, FastStream's worker pool fetches the next message as soon as a worker is free, so one
    slow (or waiting) message never holds back the others. A handler error NAKs the message for
    redelivery, at most ``max_deliver`` times (``UNLIMITED_DELIVERIES``: ``handle`` alone decides).
    """
    return broker.subscriber(
        subject,
        stream=JStream(STREAM, declare=False),
        durable=durable,
        config=consumer_config(settings, max_deliver),
        pull_sub=PullSub(batch_size=1, timeout=5.0),
        max_workers=concurrency if concurrency > 1 else None,
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )


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
    link(broker).mark(True)


async def ensure_deliveries(broker: NatsBroker, durable: str, max_deliver: int) -> None:
    """Bring an existing durable consumer of the stream to ``max_deliver`` (one made before an
    upgrade keeps the old value, which the subscriber does not change); a missing one is left to the
    subscriber to create. Editing ``max_deliver`` keeps the consumer's position and pending messages."""
    js = jetstream(broker)
    try:
        info = await js.consumer_info(STREAM, durable)
    except NotFoundError:
        return
    if info.config.max_deliver != max_deliver:
        info.config.max_deliver = max_deliver
        await js.add_consumer(STREAM, config=info.config)  # create-or-update: an edit of a live consumer
        log.info("consumer brought to max_deliver", extra={"consumer": durable, "max_deliver": max_deliver})


async def publish(broker: NatsBroker, event: Event) -> int:
    """Publish one event idempotently (``Nats-Msg-Id`` = event id); returns its stream sequence.

    Every event is stored only while the job's outcome subject is empty (JetStream checks
    ``Nats-Expected-Last-Subject-Sequence: 0`` against ``jobs.<id>.outcome``): so a job gets one
    terminal event and nothing after it. Otherwise ``OutcomeTaken`` is raised, nothing stored.
    """
    headers = {
        "Nats-Msg-Id": event.event_id,
        "Content-Type": "application/json",
        "Nats-Expected-Last-Subject-Sequence": "0",
        "Nats-Expected-Last-Subject-Sequence-Subject": outcome_subject(event.job_id),
    }
    try:
        ack = await _through_elections(
            lambda: broker.publish(
                Envelope.wrap(event).to_bytes(),
                event_subject(event.job_id, event.event_type, event.terminal),
                headers=headers,
                stream=STREAM,
            )
        )
    except APIError as error:
        if error.err_code == WRONG_LAST_SEQUENCE:
            log.info("outcome already taken", extra={"job_id": event.job_id, "event_type": event.event_type})
            raise OutcomeTaken(event.job_id) from error
        raise
    log.info(
        "published",
        extra={
            "job_id": event.job_id,
            "event_type": event.event_type,
            "seq": ack.seq,
            "duplicate": bool(ack.duplicate),
        },
    )
    if not ack.duplicate:
        metrics.count_outcome(event)
    return ack.seq


async def _through_elections(send: Callable[[], Awaitable[T]]) -> T:
    """``send()``, tried again with backoff (0.1 s doubling to 1 s) for up to ``PUBLISH_RETRY_S``
    while the stream has no leader or another event of the job is in flight; then the error is raised."""
    loop = asyncio.get_running_loop()
    deadline, delay = loop.time() + PUBLISH_RETRY_S, 0.1
    while True:
        try:
            return await send()
        except LEADERLESS:
            if loop.time() + delay > deadline:
                raise
            log.info("stream without a leader; publishing again", extra={"retry_in_s": delay})
        except BadRequestError as error:
            if error.err_code != SUBJECT_IN_FLIGHT or loop.time() + delay > deadline:
                raise
            log.info("another event of the job in flight; publishing again", extra={"retry_in_s": delay})
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)


async def forget_jobs(broker: NatsBroker, job_ids: list[str]) -> None:
    """Retention: remove every event of these jobs from the stream (JetStream purge by subject),
    so a purged job cannot be read back from the log either."""
    js = jetstream(broker)
    for job_id in job_ids:
        await js.purge_stream(STREAM, subject=job_events(job_id))


async def has_outcome(broker: NatsBroker, job_id: str) -> bool:
    """True once the job's terminal event is in the log."""
    try:
        await jetstream(broker).get_last_msg(STREAM, outcome_subject(job_id), direct=True)
    except NotFoundError:
        return False
    return True


def read(message: NatsMessage) -> tuple[Envelope, int]:
    """The envelope of a consumed message and its stream sequence."""
    raw = message.raw_message
    return Envelope.from_bytes(raw.data), raw.metadata.sequence.stream


def final_attempt(message: NatsMessage, settings: CommonSettings, waited: int = 0) -> bool:
    """True on the last delivery of this message that may fail (a poison message); ``waited``
    deliveries were only put back (``NotYet``) and count for nothing."""
    return message.raw_message.metadata.num_delivered - waited >= settings.max_deliver


async def _nothing_waited() -> int:
    return 0


@asynccontextmanager
async def kept_alive(in_progress: Callable[[], Awaitable[None]], every_s: float) -> AsyncIterator[None]:
    """Tell JetStream every ``every_s`` that a message is still being worked on (an in-progress
    acknowledgement), so a job that takes longer than the ack wait is not redelivered."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                await in_progress()
            except Exception:  # NATS away: the beat resumes once it is back
                log.debug("in-progress acknowledgement failed", exc_info=True)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()


STAGING_TTL_S = 24 * 3600.0


async def staging_store(broker: NatsBroker, *, declare: bool = False, replicas: int = 1) -> ObjectStore:
    """The bucket where the API leaves upload bytes for ingest; leftovers expire after a day.
    Declared with ``replicas`` copies (``NATS_STREAM_REPLICAS``, like the job stream)."""
    return await broker.object_storage(
        STAGING_BUCKET, ttl=STAGING_TTL_S, storage=StorageType.FILE, replicas=replicas, declare=declare
    )


REDELIVERY_DELAYS_S = (1.0, 3.0, 9.0, 27.0)  # after the 1st, 2nd, 3rd, 4th failed delivery


def redelivery_delay(delivered: int) -> float:
    """How long JetStream waits before it delivers a failed message again: 1, 3, 9, 27 s, so the
    deliveries of a message span about 40 s and a short outage (a database restart) costs no job."""
    return REDELIVERY_DELAYS_S[min(max(delivered, 1), len(REDELIVERY_DELAYS_S)) - 1]


async def handle(
    message: NatsMessage,
    settings: CommonSettings,
    work: Callable[[], Awaitable[None]],
    give_up: Callable[[], Awaitable[None]],
    waited: Callable[[], Awaitable[int]] = _nothing_waited,
) -> None:
    """Run ``work`` with the message kept alive; on its last delivery, a failure calls ``give_up``.
    ``work`` raising ``NotYet`` puts the message back for later; ``waited`` says how many of its
    deliveries did only that (the consumer then has ``UNLIMITED_DELIVERIES``).

    ``give_up`` ends the job with a code, so a message that fails every delivery (a poison
    message) never leaves its job stuck. A dependency outage (PostgreSQL, Redis, NATS) is not a
    failure: ``work`` waits for it and runs again, however long it lasts, without using a delivery.
    """
    context = {"subject": message.raw_message.subject}
    try:
        async with kept_alive(message.raw_message.in_progress, settings.ack_wait_s / 3):
            await outages.ride_out(work, settings.reconnect_policy(), context)
    except NotYet as wait:
        await message.nack(delay=wait.delay_s)
    except Exception:
        if not final_attempt(message, settings, await waited()):
            await message.nack(delay=redelivery_delay(message.raw_message.metadata.num_delivered))
            raise
        log.exception("last delivery failed; ending the job", extra={"subject": message.raw_message.subject})
        try:
            await give_up()
        except OutcomeTaken:
            pass
