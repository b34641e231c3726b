"""In-progress acknowledgements keep a long-running message from being redelivered (real JetStream)."""

from __future__ import annotations

import uuid

import nats
from nats.js.api import ConsumerConfig, StreamConfig

from runtime.bus import kept_alive
from tests.waiting import wait_for_async

ACK_WAIT_S = 2.0  # beats every half second: a loaded machine may delay one by 1.5 s and still pass


async def test_a_message_held_past_its_ack_wait_is_not_redelivered_while_kept_alive(stack_env) -> None:
    """Two messages are fetched together; one is kept alive, the other left unattended. The
    unattended one's redeliveries are the clock: when it comes back the second time, two ack waits
    have passed for both, and the kept one (the older: it would be redelivered first) never came."""
    nc = await nats.connect(stack_env["NATS_URL"])
    js, name = nc.jetstream(), f"KEEPALIVE_{uuid.uuid4().hex[:8]}"
    try:
        await js.add_stream(StreamConfig(name=name, subjects=[f"{name}.>"]))
        await js.publish(f"{name}.job", b"kept")
        await js.publish(f"{name}.job", b"unattended")
        config = ConsumerConfig(ack_wait=ACK_WAIT_S, max_deliver=5)
        first = await js.pull_subscribe(f"{name}.>", durable="worker", stream=name, config=config)
        other = await js.pull_subscribe(f"{name}.>", durable="worker", stream=name, config=config)
        kept, unattended = await first.fetch(2, timeout=5)
        assert (kept.data, unattended.data) == (b"kept", b"unattended")
        handed = []  # what the other worker is given meanwhile

        async def redelivered_twice() -> bool:
            try:
                handed.extend(await other.fetch(1, timeout=0.5))
            except TimeoutError:
                return False
            return [m.metadata.num_delivered for m in handed if m.data == b"unattended"] == [2, 3]

        async with kept_alive(kept.in_progress, every_s=ACK_WAIT_S / 4):
            await wait_for_async(redelivered_twice, 30, "the unattended message's second redelivery", every=0)
            assert [m.data for m in handed] == [b"unattended"] * 2, "the kept message was redelivered"
        await kept.ack()
    finally:
        await js.delete_stream(name)
        await nc.close()
