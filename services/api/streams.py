"""The SSE stream of one job: subscribe live first, replay what was missed, then follow live.

Ids are the job's event numbers (1, 2, 3, ...), contiguous, the same on every API instance, so
a gap is visible: a replay or live event that skips a number is completed from the Redis buffer
or, when that lacks it (expired, or Redis lost it), from the durable archive.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from litestar.response import ServerSentEventMessage

from contracts.sse import SseEntry
from services.api.adapters.live import EventFeed, FeedLost
from services.api.adapters.read_model import ReadModel
from services.api.public import public_envelope

log = logging.getLogger(__name__)


@dataclass
class History:
    """What a client missed, and where it came from."""

    entries: list[SseEntry]
    source: str  # "buffer" or "archive"


def contiguous(entries: list[SseEntry], after: int) -> bool:
    return [e.id for e in entries] == list(range(after + 1, after + 1 + len(entries)))


async def missed(
    feed: EventFeed, read_model: ReadModel, job_id: str, after: int, upto: int | None = None
) -> History:
    """Events numbered after ``after`` (up to ``upto``): the buffer if it has them all, else the archive."""
    buffered = await feed.buffered_after(job_id, after, upto)
    if buffered and contiguous(buffered, after) and (upto is None or buffered[-1].id == upto):
        return History(buffered, "buffer")
    return History(await read_model.archived_after(job_id, after, upto), "archive")


@dataclass
class JobStream:
    job_id: str
    after: int
    feed: EventFeed
    read_model: ReadModel
    heartbeat_s: float
    retry_ms: int
    state: dict

    async def messages(self) -> AsyncIterator[ServerSentEventMessage]:
        yield ServerSentEventMessage(data=None, comment="stream open", retry=self.retry_ms)
        try:
            async for message in self._stream():
                yield message
        except FeedLost as lost:  # the client reconnects with Last-Event-ID; the replay fills in
            log.info("live feed lost: the stream ends", extra={"job_id": self.job_id, "reason": str(lost)})

    async def _stream(self) -> AsyncIterator[ServerSentEventMessage]:
        async with self.feed.subscribe(self.job_id) as live:
            asked = self.after
            history = await missed(self.feed, self.read_model, self.job_id, asked)
            for entry in history.entries:
                yield self._message(entry)
            yield self._sync(history, asked)
            if history.entries and history.entries[-1].terminal:
                return
            async for message in self._follow(live):
                yield message

    async def _follow(self, live) -> AsyncIterator[ServerSentEventMessage]:
        quiet_since = time.monotonic()
        while True:
            entry = await live.next(timeout=self.heartbeat_s)
            if entry is not None and entry.id > self.after:
                for filled in await self._through(entry):
                    yield self._message(filled)
                    if filled.terminal:
                        return
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= self.heartbeat_s:
                yield ServerSentEventMessage(data=None, comment="heartbeat")
                quiet_since = time.monotonic()

    async def _through(self, entry: SseEntry) -> list[SseEntry]:
        """The live entry, preceded by any numbers it skipped."""
        if entry.id == self.after + 1:
            return [entry]
        gap = await missed(self.feed, self.read_model, self.job_id, self.after, entry.id - 1)
        return [e for e in gap.entries if e.id < entry.id] + [entry]

    def _message(self, entry: SseEntry) -> ServerSentEventMessage:
        self.after = entry.id
        shown = public_envelope(entry.event, entry.data)
        return ServerSentEventMessage(data=json.dumps(shown), event=entry.event, id=entry.id)

    def _sync(self, history: History, asked: int) -> ServerSentEventMessage:
        """After the replay: the job's state and what was replayed (no id: it is not a job event)."""
        replayed = [e.id for e in history.entries]
        verdict = {
            "complete": contiguous(history.entries, asked),
            "source": history.source,
            "first": replayed[0] if replayed else None,
            "last": replayed[-1] if replayed else None,
        }
        return ServerSentEventMessage(
            data=json.dumps({"job": self.state, "replay": verdict}, default=str), event="sync"
        )
