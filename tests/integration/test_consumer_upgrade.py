"""A durable consumer made before an upgrade is brought to the new delivery limit at start (the
converter's, whose messages may now wait for their owner's share): edited in place, not recreated."""

from __future__ import annotations

import uuid

from faststream.nats import NatsBroker
from nats.js.api import ConsumerConfig
from nats.js.errors import NotFoundError

from runtime import bus


async def test_an_old_consumer_gets_unlimited_deliveries_in_place(broker: NatsBroker) -> None:
    js = bus.jetstream(broker)
    # a subject no event is ever published on: the test touches no job of the session's stack
    durable, subject = f"upgrade-{uuid.uuid4().hex[:8]}", f"jobs.upgrade-{uuid.uuid4().hex[:8]}.UploadStored"
    made = await js.add_consumer(
        bus.STREAM, ConsumerConfig(durable_name=durable, filter_subject=subject, max_deliver=5, ack_wait=30)
    )
    assert made.config.max_deliver == 5
    try:
        await bus.ensure_deliveries(broker, durable, bus.UNLIMITED_DELIVERIES)
        info = await js.consumer_info(bus.STREAM, durable)
        assert info.config.max_deliver == bus.UNLIMITED_DELIVERIES
        assert info.config.filter_subject == subject and info.config.ack_wait == 30
        assert info.created == made.created  # edited in place: its position and pending are kept
        await bus.ensure_deliveries(broker, durable, bus.UNLIMITED_DELIVERIES)  # already so: unchanged
        assert (await js.consumer_info(bus.STREAM, durable)).config.max_deliver == bus.UNLIMITED_DELIVERIES
    finally:
        await js.delete_consumer(bus.STREAM, durable)


async def test_a_missing_consumer_is_left_to_the_subscriber(broker: NatsBroker) -> None:
    durable = f"absent-{uuid.uuid4().hex[:8]}"
    await bus.ensure_deliveries(broker, durable, bus.UNLIMITED_DELIVERIES)
    js = bus.jetstream(broker)
    try:
        await js.consumer_info(bus.STREAM, durable)
        raise AssertionError("ensure_deliveries created a consumer")
    except NotFoundError:
        pass
