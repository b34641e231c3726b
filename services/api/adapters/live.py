"""The Redis side of live progress: the replay buffer and the live announcements.

Live announcements arrive over one Redis subscription per API instance (``LiveHub``), shared by
every open stream: a job's channel is subscribed while at least one stream follows it, and each
stream gets its job's announcements through a bounded queue of its own. A stream learns it is
subscribed only once Redis has confirmed it, so what it reads from the buffer afterwards cannot
miss an announcement in between. When the subscription breaks (Redis went away), or a stream
falls ``QUEUE_MAX`` announcements behind, the streams concerned end with ``FeedLost``: the client
reconnects with Last-Event-ID and the replay fills in what it missed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import redis.exceptions
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from contracts import keys
from contracts.sse import SseEntry
from services.api.adapters.fallback import REDIS_DOWN

log = logging.getLogger(__name__)
QUEUE_MAX = 256  # announcements one stream may be behind before it is ended (a job has far fewer)
READ_WAIT_S = 1.0  # the reader's longest wait for a message before it looks whether anyone listens


class FeedLost(redis.exceptions.ConnectionError):
    """The live feed of a stream broke off: Redis went away, or the stream fell too far behind."""


class Listener:
    """One stream's share of the subscription."""

    def __init__(self, needed: int) -> None:
        self.queue: asyncio.Queue[str | FeedLost] = asyncio.Queue(QUEUE_MAX + 1)
        self.needed = needed  # the channel's confirmations that make this stream subscribed
        self.ready = asyncio.Event()  # set once Redis confirmed the channel, or once it failed
        self.lost: FeedLost | None = None

    def deliver(self, data: str) -> bool:
        """Queue an announcement; False when the stream is too far behind (it has been ended)."""
        if self.queue.qsize() >= QUEUE_MAX:
            self.fail(FeedLost(f"more than {QUEUE_MAX} announcements behind"))
            return False
        self.queue.put_nowait(data)
        return True

    def fail(self, error: FeedLost) -> None:
        if self.lost is None:
            self.lost = error
            self.queue.put_nowait(error)  # the one slot kept free for it
        self.ready.set()


class Channel:
    """A job's channel on the shared subscription. SUBSCRIBEs sent and confirmations received are
    counted, so a stream is told it is subscribed by the confirmation of a SUBSCRIBE sent for it,
    not by one answering an earlier SUBSCRIBE that an UNSUBSCRIBE has since undone."""

    def __init__(self) -> None:
        self.followers: set[Listener] = set()
        self.requested = False  # the last command sent for it was SUBSCRIBE
        self.sent = self.confirmed = 0

    @property
    def idle(self) -> bool:
        return not self.followers and not self.requested and self.confirmed >= self.sent


class LiveFeed:
    def __init__(self, listener: Listener) -> None:
        self.listener = listener

    async def next(self, timeout: float) -> SseEntry | None:
        """The next announcement, or None after ``timeout`` seconds without one."""
        try:
            async with asyncio.timeout(timeout):
                item = await self.listener.queue.get()
        except TimeoutError:
            return None
        if isinstance(item, FeedLost):
            raise item
        return SseEntry.from_json(item)


class LiveHub:
    """One Redis subscription for every stream of this API instance.

    Streams join and leave without awaiting anything (a stream cancelled halfway cannot leave the
    books wrong); the hub's own two tasks do the talking: one sends SUBSCRIBE and UNSUBSCRIBE until
    Redis holds what the streams need, one reads and hands out what arrives.
    """

    def __init__(self, redis: Redis, confirm_timeout_s: float) -> None:
        self.redis, self.confirm_timeout_s = redis, confirm_timeout_s
        self.channels: dict[str, Channel] = {}
        self._pubsub: PubSub | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._changed = asyncio.Event()
        self._closing: asyncio.Task[None] | None = None

    @property
    def streams(self) -> int:
        return sum(len(c.followers) for c in self.channels.values())

    @asynccontextmanager
    async def subscribe(self, name: str) -> AsyncIterator[LiveFeed]:
        listener = self._join(name)
        try:
            try:
                async with asyncio.timeout(self.confirm_timeout_s):
                    await listener.ready.wait()
            except TimeoutError:
                raise FeedLost("Redis did not confirm the subscription") from None
            if listener.lost is not None:
                raise listener.lost
            yield LiveFeed(listener)
        finally:
            self._leave(name, listener)

    def _join(self, name: str) -> Listener:
        channel = self.channels.setdefault(name, Channel())
        listener = Listener(channel.sent if channel.requested else channel.sent + 1)
        if channel.confirmed >= listener.needed:
            listener.ready.set()
        channel.followers.add(listener)
        if self._pubsub is None:
            self._start()
        self._changed.set()
        return listener

    def _leave(self, name: str, listener: Listener) -> None:
        channel = self.channels.get(name)
        if channel is not None and listener in channel.followers:
            channel.followers.discard(listener)
            self._changed.set()

    def _start(self) -> None:
        pubsub = self._pubsub = self.redis.pubsub()
        self._tasks = [asyncio.create_task(self._write(pubsub), name="live-hub-writer")]

    def _renewed(self, connection: object) -> None:
        """redis-py reconnected (a client with retries does it by itself, and subscribes again):
        what was announced in between is lost, so the streams must resync instead."""
        raise FeedLost("the live subscription's connection was renewed")

    async def _write(self, pubsub: PubSub) -> None:
        try:
            await pubsub.connect()
            assert pubsub.connection is not None
            if not pubsub.connection.is_connected:
                await pubsub.connection.connect()
            pubsub.connection.register_connect_callback(self._renewed)  # from now on: reconnects
            self._tasks.append(asyncio.create_task(self._read(pubsub), name="live-hub-reader"))
            while self._pubsub is pubsub:
                self._changed.clear()
                for name, channel in list(self.channels.items()):
                    if channel.followers and not channel.requested:
                        channel.requested = True
                        channel.sent += 1
                        await pubsub.subscribe(name)
                    elif not channel.followers and channel.requested:
                        channel.requested = False
                        await pubsub.unsubscribe(name)
                    if channel.idle:
                        del self.channels[name]
                await self._changed.wait()
        except Exception as error:  # Redis went away, or a fault of ours: either way, start afresh
            self._break(pubsub, error)

    async def _read(self, pubsub: PubSub) -> None:
        try:
            while self._pubsub is pubsub:
                message = await pubsub.get_message(timeout=READ_WAIT_S)
                if message is not None:
                    self._dispatch(message)
                elif not self.channels:
                    self._pubsub = None  # nobody follows anything: close; the next stream reopens
                    self._changed.set()  # ... and the writer ends
                    await self._close(pubsub)
        except Exception as error:
            self._break(pubsub, error)

    def _dispatch(self, message: dict) -> None:
        name = message["channel"]
        channel = self.channels.get(name.decode() if isinstance(name, bytes) else name)
        if channel is None:
            return
        if message["type"] == "subscribe":
            channel.confirmed += 1
            for follower in channel.followers:
                if channel.confirmed >= follower.needed:
                    follower.ready.set()
        elif message["type"] == "message":
            for follower in [f for f in channel.followers if not f.deliver(message["data"])]:
                channel.followers.discard(follower)  # ended: it resyncs
        self._changed.set()  # the writer drops a channel no longer needed

    def _break(self, pubsub: PubSub, error: BaseException) -> None:
        """The subscription is gone: every stream ends (and resyncs), the next one starts afresh."""
        if self._pubsub is not pubsub:
            return
        lost = error if isinstance(error, FeedLost) else FeedLost(f"the live subscription broke: {error!r}")
        if self.streams:
            log.warning("live feed lost", extra={"reason": str(lost), "streams": self.streams})
        for channel in self.channels.values():
            for follower in channel.followers:
                follower.fail(lost)
        self.channels.clear()
        self._pubsub = None
        self._changed.set()
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        self._closing = asyncio.get_running_loop().create_task(self._close(pubsub))

    async def aclose(self) -> None:
        if self._pubsub is not None:
            self._break(self._pubsub, FeedLost("the API is stopping"))
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        closing = [self._closing] if self._closing is not None else []
        await asyncio.gather(*tasks, *closing, return_exceptions=True)

    async def _close(self, pubsub: PubSub) -> None:
        if pubsub.connection is not None:  # it goes back to the pool: the next user is not renewing
            pubsub.connection.deregister_connect_callback(self._renewed)
        with suppress(*REDIS_DOWN):
            await pubsub.aclose()


class EventFeed:
    def __init__(self, redis: Redis, confirm_timeout_s: float = 5.0) -> None:
        self.redis = redis
        self.hub = LiveHub(redis, confirm_timeout_s)

    async def buffered_after(self, job_id: str, after: int, upto: int | None = None) -> list[SseEntry]:
        """Buffered events numbered after ``after`` (up to ``upto``); [] when the buffer is gone."""
        top = "+inf" if upto is None else upto
        try:
            raw = await self.redis.zrangebyscore(keys.sse_events(job_id), f"({after}", top)
        except REDIS_DOWN:  # Redis is down: the archive answers instead
            return []
        return [SseEntry.from_json(r) for r in raw]

    @asynccontextmanager
    async def subscribe(self, job_id: str) -> AsyncIterator[LiveFeed]:
        async with self.hub.subscribe(keys.sse_live(job_id)) as live:
            yield live

    async def aclose(self) -> None:
        await self.hub.aclose()
