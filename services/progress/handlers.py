"""One function per message: load, decide, emit."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from contracts.envelope import Envelope
from contracts.events import decode
from contracts.sse import SseEntry
from services.progress.adapters import postgres
from services.progress.adapters.redis import SseBuffer


@dataclass
class Deps:
    pool: asyncpg.Pool | None
    buffer: SseBuffer


async def on_job_event(envelope: Envelope, seq: int, deps: Deps) -> None:
    """Durable first, then hot: the archive is the truth the buffer can be rebuilt from."""
    await postgres.project(deps.pool, envelope, decode(envelope), seq)
    await deps.buffer.add(envelope.job_id, seq, SseEntry.of(envelope, seq).to_json())
