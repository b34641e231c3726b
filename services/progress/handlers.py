"""One function per batch of messages: project durably, then hot."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import asyncpg

from contracts.sse import SseEntry
from runtime.batches import Incoming
from services.progress.adapters import postgres
from services.progress.adapters.postgres import Lookup

log = logging.getLogger(__name__)


class Buffer(Protocol):
    """The hot projection (``runtime.sse_buffer.SseBuffer``): buffer and announce entries."""

    async def add(self, entries: Sequence[SseEntry], buffer_ttl_s: int | None = None) -> int: ...


@dataclass
class Deps:
    pool: asyncpg.Pool | None
    buffer: Buffer
    lookup: Lookup | None = None
    buffer_failing: bool = False  # said once when buffer writes start failing, once when they work again


async def on_job_events(batch: list[Incoming], ack_floor: int, deps: Deps) -> None:
    """Durable first, then hot: the archive is the truth the buffer can be rebuilt from.

    A Redis failure loses nothing: the events are archived, and readers detect the missing
    numbers in the buffer and read the archive instead.
    """
    entries = await postgres.project(deps.pool, batch, ack_floor, deps.lookup)
    try:
        await deps.buffer.add(entries)  # per job in number order: project() keeps each job's order
    except Exception:  # Redis is disposable; the archive already holds these events
        if not deps.buffer_failing:
            log.warning("could not update the SSE buffer; readers use the archive", exc_info=True)
        deps.buffer_failing = True
        return
    if deps.buffer_failing:
        log.warning("SSE buffer updates work again")
        deps.buffer_failing = False
