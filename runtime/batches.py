"""A pull consumer that hands over whatever is waiting, up to a batch, in stream order.

FastStream either runs a fetched batch's messages concurrently (reordering them) or waits to
fill the batch (adding latency), so the projection uses nats-py directly: each batch is the first
message as soon as it arrives plus whatever else is already waiting (a whole batch under load).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig
from nats.js.errors import NotFoundError

from contracts.envelope import Envelope
from contracts.subjects import STREAM
from runtime import outages
from runtime.bus import kept_alive, redelivery_delay
from runtime.reconnect import ReconnectPolicy
from runtime.tracing import message_spans

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Incoming:
    """An event as the consumer hands it over: its envelope and its stream sequence."""

    envelope: Envelope
    seq: int


BatchHandler = Callable[[list[Incoming], int], Awaitable[None]]


FIRST_WAIT_S = 5.0  # long poll for the first message of a batch; answered as soon as one arrives
REST_WAIT_S = 0.5  # then the messages already waiting: at most this long if another copy took them


class BatchConsumer:
    def __init__(
        self,
        js: JetStreamContext,
        subject: str,
        durable: str,
        config: ConsumerConfig,
        handler: BatchHandler,
        batch: int = 256,
        policy: ReconnectPolicy | None = None,
    ) -> None:
        self.js, self.subject, self.durable, self.config = js, subject, durable, config
        self.handler, self.batch = handler, batch
        self.policy = policy or ReconnectPolicy()
        self.task: asyncio.Task | None = None
        self.backlog = False  # the last batch came back full
        self.fetch_failing = False  # logged once when fetching starts failing, once when it works again

    def running(self) -> bool:
        """False once the consuming loop has ended (it never should while the process runs)."""
        return self.task is None or not self.task.done()

    async def start(self) -> None:
        self.sub = await self.js.pull_subscribe(
            self.subject, durable=self.durable, stream=STREAM, config=self.config
        )
        self.task = asyncio.create_task(self._run(), name=f"consume-{self.durable}")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    async def _run(self) -> None:
        """Fetch the next batch while the current one is handled; batches are handled in turn."""
        ahead = asyncio.create_task(self._fetch())
        try:
            while True:
                messages = await ahead
                ahead = asyncio.create_task(self._fetch())
                if messages:
                    with message_spans(f"{self.durable} project", messages):
                        await self._handle(messages)
        finally:
            ahead.cancel()

    async def _fetch(self) -> list[Msg]:
        """The next batch: wait (long poll) for one message, then take what else is already there.

        A single ``fetch(batch=N)`` would not do: once it has its first message, nats-py keeps its
        pull request open until the batch is full or the request expires, so an event arriving at a
        quiet moment waited up to the whole timeout (measured: up to 4 s before its job's page or
        stream showed it). The second request asks for exactly the number JetStream says is waiting.
        """
        try:
            if self.backlog:  # the last batch was full: a whole batch is there, one request fills it
                batch = await self.sub.fetch(batch=self.batch, timeout=FIRST_WAIT_S)
            else:
                batch = await self.sub.fetch(batch=1, timeout=FIRST_WAIT_S)
                # ask for exactly what is waiting (JetStream counts it), so the request is filled at once
                waiting = min(batch[0].metadata.num_pending or 0, self.batch - 1)
                if waiting:
                    try:
                        batch += await self.sub.fetch(batch=waiting, timeout=REST_WAIT_S)
                    except TimeoutError:  # another copy took them meanwhile
                        pass
            self.backlog = len(batch) == self.batch
            self._fetched(True)
            return batch
        except TimeoutError:
            self.backlog = False
            self._fetched(True)
            return []
        except Exception:  # connection trouble: nats-py reconnects; try again shortly
            self._fetched(False)
            await asyncio.sleep(1.0)
            return []

    def _fetched(self, ok: bool) -> None:
        if ok == (not self.fetch_failing):
            return
        self.fetch_failing = not ok
        if ok:
            log.warning("fetching works again", extra={"durable": self.durable})
        else:
            log.warning(
                "fetch failed; trying again every second", exc_info=True, extra={"durable": self.durable}
            )

    async def _handle(self, messages: list[Msg]) -> None:
        readable = [(m, e) for m in messages if (e := await _envelope(m)) is not None]
        if not readable:
            return
        try:
            await self._ride_out(readable)
        except Exception:
            log.warning(
                "batch failed; projecting its messages one by one",
                exc_info=True,
                extra={"size": len(readable)},
            )
            for item in readable:
                await self._alone(*item)
            return
        for m, _ in readable:
            await m.ack()

    async def _ride_out(self, readable: list[tuple[Msg, Envelope]]) -> None:
        """Project the batch, waiting through a PostgreSQL or NATS outage of any length with the
        messages kept in progress: an outage costs time, never a delivery (``max_deliver``)."""

        async def in_progress() -> None:
            for message, _ in readable:
                await message.in_progress()

        every_s = (self.config.ack_wait or 30.0) / 3
        async with kept_alive(in_progress, every_s):
            await outages.ride_out(lambda: self._project(readable), self.policy, {"durable": self.durable})

    async def _project(self, readable: list[tuple[Msg, Envelope]]) -> None:
        floor = (await self.sub.consumer_info()).ack_floor.stream_seq
        await self.handler([Incoming(e, _stream_seq(m)) for m, e in readable], floor)

    async def _alone(self, message: Msg, envelope: Envelope) -> None:
        """One message in its own transaction: a poison message cannot hold the others back."""
        try:
            await self._ride_out([(message, envelope)])
        except Exception:
            last = message.metadata.num_delivered >= (self.config.max_deliver or 0) > 0
            log.exception(
                "event failed" + ("; giving up on it" if last else "; will retry"),
                extra={"seq": message.metadata.sequence.stream, "subject": message.subject},
            )
            delay = redelivery_delay(message.metadata.num_delivered or 1)  # 1, 3, 9, 27 s: outlive a restart
            await (message.term() if last else message.nak(delay=delay))
            return
        await message.ack()


_V1_TOKENS = 9  # $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>


def _stream_seq(message: Msg) -> int:
    """The stream sequence alone from the ack subject, in either of its layouts (nats-py's full
    metadata parse, timestamps and all, cost a tenth of the projection's time)."""
    tokens = message.reply.split(".")
    return int(tokens[5] if len(tokens) == _V1_TOKENS else tokens[Msg.Ack.StreamSeq])


async def _envelope(message: Msg) -> Envelope | None:
    """The message's envelope; one this build cannot read is set aside (TERM), never retried."""
    try:
        return Envelope.from_bytes(message.data)
    except ValueError:
        log.error(
            "unreadable event terminated",
            extra={"subject": message.subject, "seq": message.metadata.sequence.stream},
        )
        await message.term()
        return None


async def job_events_between(js: JetStreamContext, subject: str, after: int, before: int) -> list[Incoming]:
    """Events on ``subject`` with stream sequences strictly between ``after`` and ``before``."""
    found, start = [], after + 1
    while start < before:
        try:
            msg = await js.get_msg(STREAM, seq=start, next=True, subject=subject, direct=True)
        except NotFoundError:
            break
        if msg.seq >= before:
            break
        found.append(Incoming(Envelope.from_bytes(msg.data), msg.seq))
        start = msg.seq + 1
    return found
