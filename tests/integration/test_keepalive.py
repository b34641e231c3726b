"""In-progress acknowledgements keep a long-running message from being redelivered (real JetStream)."""

from __future__ import annotations

import asyncio
import uuid

import nats
from nats.js.api import ConsumerConfig, StreamConfig

from services.runtime.bus import kept_alive

ACK_WAIT_S = 2.0  # beats every half second: a loaded machine may delay one by 1.5 s and still pass


async def test_a_message_held_past_its_ack_wait_is_not_redelivered_while_kept_alive(stack_env) -> None:
    nc = await nats.connect(stack_env["NATS_URL"])
    js, name = nc.jetstream(), f"KEEPALIVE_{uuid.uuid4().hex[:8]}"
    try:
        await js.add_stream(StreamConfig(name=name, subjects=[f"{name}.>"]))
        await js.publish(f"{name}.job", b"work")
        config = ConsumerConfig(ack_wait=ACK_WAIT_S, max_deliver=5)
        first = await js.pull_subscribe(f"{name}.>", durable="worker", stream=name, config=config)
        other = await js.pull_subscribe(f"{name}.>", durable="worker", stream=name, config=config)
        (message,) = await first.fetch(1, timeout=5)

        async with kept_alive(message.in_progress, every_s=ACK_WAIT_S / 4):
            await asyncio.sleep(3 * ACK_WAIT_S)  # the work: three ack waits long
            assert await _nothing(other), "redelivered to another worker while kept alive"
        await message.ack()

        # Control: without the keep-alive the same hold gets the message redelivered.
        await js.publish(f"{name}.job", b"more work")
        (unattended,) = await first.fetch(1, timeout=5)
        await asyncio.sleep(2 * ACK_WAIT_S)
        (again,) = await other.fetch(1, timeout=5)
        assert again.data == unattended.data and again.metadata.num_delivered == 2
        await again.ack()
    finally:
        await js.delete_stream(name)
        await nc.close()


async def _nothing(subscription) -> bool:
    """True when nothing is waiting for this consumer."""
    try:
        await subscription.fetch(1, timeout=0.5)
    except TimeoutError:
        return True
    return False
