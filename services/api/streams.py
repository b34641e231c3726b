"""The SSE stream of one job: subscribe live first, replay what was missed, then follow live.

Ids are the events' stream sequences, so merging replay and live by id is gap-free and
duplicate-free whichever API instance serves the client.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from litestar.response import ServerSentEventMessage

from contracts.sse import SseEntry
from services.api.adapters.live import EventFeed
from services.api.adapters.read_model import ReadModel


@dataclass
class JobStream:
    job_id: str
    after: int
    feed: EventFeed
    read_model: ReadModel
    heartbeat_s: float
    retry_ms: int

    async def messages(self) -> AsyncIterator[ServerSentEventMessage]:
        yield ServerSentEventMessage(data=None, comment="stream open", retry=self.retry_ms)
        async with self.feed.subscribe(self.job_id) as live:
            for entry in await self._missed():
                yield self._message(entry)
                if entry.terminal:
                    return
            quiet_since = time.monotonic()
            while True:
                entry = await live.next(timeout=self.heartbeat_s)
                if entry is not None and entry.id > self.after:
                    yield self._message(entry)
                    if entry.terminal:
                        return
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since >= self.heartbeat_s:
                    yield ServerSentEventMessage(data=None, comment="heartbeat")
                    quiet_since = time.monotonic()

    async def _missed(self) -> list[SseEntry]:
        """From the Redis buffer, or from the durable archive once the buffer has expired."""
        buffered = await self.feed.buffered_after(self.job_id, self.after)
        if buffered is not None:
            return buffered
        return await self.read_model.archived_after(self.job_id, self.after)

    def _message(self, entry: SseEntry) -> ServerSentEventMessage:
        self.after = entry.id
        return ServerSentEventMessage(data=json.dumps(entry.data), event=entry.event, id=entry.id)
