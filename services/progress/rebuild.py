"""Rebuild the projections from the durable archive: ``python -m services.progress.rebuild``.

Re-folds the ``jobs`` table from ``event_archive`` (in each job's event order) inside one
transaction that locks the table, and rewrites the Redis history markers and, for jobs whose last
event is younger than the buffer TTL, their SSE buffers with the time they have left. The archive
itself is never changed. Safe while progress runs: its batches wait for the rebuild's lock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from datetime import UTC, datetime

import asyncpg
from redis.asyncio import Redis

from contracts import keys
from contracts.envelope import Envelope
from contracts.events import decode
from contracts.sse import SseEntry
from runtime import logs, schema
from services.progress.adapters.postgres import UPSERT, migrate, row_of
from services.progress.adapters.redis import SseBuffer
from services.progress.domain import JobState, apply, number
from services.progress.settings import ProgressSettings

log = logging.getLogger(__name__)


async def fold_jobs(conn: asyncpg.Connection) -> dict[str, list[SseEntry]]:
    """Recompute every job row from the archive; returns each job's entries in order."""
    await conn.execute("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE")
    await conn.execute("DELETE FROM jobs")
    states: dict[str, JobState] = {}
    entries: dict[str, list[SseEntry]] = {}
    async for row in conn.cursor(
        "SELECT seq, job_id, job_seq, event_type, envelope FROM event_archive ORDER BY job_id, job_seq"
    ):
        job_id, envelope = str(row["job_id"]), Envelope.model_validate_json(row["envelope"])
        state, n = number(apply(states.get(job_id), decode(envelope), row["seq"]), row["seq"])
        assert n == row["job_seq"], f"archive numbering broken for job {job_id} at {n}"
        states[job_id] = state
        entries.setdefault(job_id, []).append(SseEntry(n, row["event_type"], json.loads(row["envelope"])))
    await conn.executemany(UPSERT, [row_of(s) for s in states.values()])
    return entries


async def reset_redis(redis: Redis, entries: dict[str, list[SseEntry]]) -> int:
    """Drop every buffer and marker, then re-add what is still inside the buffer's TTL."""
    for pattern in (keys.sse_events("*"), keys.sse_history("*")):
        async for key in redis.scan_iter(match=pattern, count=500):
            await redis.delete(key)
    buffer, now, rebuffered = SseBuffer(redis), datetime.now(UTC), 0
    for job_id, job_entries in entries.items():
        last = datetime.fromisoformat(job_entries[-1].data["occurred_at"])
        left = keys.SSE_BUFFER_TTL_S - int((now - last).total_seconds())
        if left > 0:
            rebuffered += await buffer.add(job_entries, buffer_ttl_s=left)
        else:
            await redis.hset(keys.sse_history(job_id), mapping=_history(job_entries))
            await redis.expire(keys.sse_history(job_id), keys.SSE_HISTORY_TTL_S)
    return rebuffered


def _history(entries: list[SseEntry]) -> dict:
    terminal = [e.id for e in entries if e.terminal]
    return {"last": entries[-1].id, **({"terminal": terminal[0]} if terminal else {})}


async def rebuild(settings: ProgressSettings) -> dict:
    pool = await schema.pool(settings.database_url, min_size=1, max_size=2)
    redis = Redis(host=settings.redis_host, port=settings.redis_port, decode_responses=True)
    try:
        await migrate(pool)
        async with pool.acquire() as conn, conn.transaction():
            entries = await fold_jobs(conn)
        rebuffered = await reset_redis(redis, entries)
    finally:
        await redis.aclose()
        await pool.close()
    return {"jobs": len(entries), "events": sum(map(len, entries.values())), "rebuffered": rebuffered}


def main() -> int:
    settings = ProgressSettings()
    logs.configure("progress-rebuild", settings.log_level)
    report = asyncio.run(rebuild(settings))
    log.info("rebuilt", extra=report)
    print(json.dumps(report), file=sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
