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

import asyncpg
from redis.asyncio import Redis

from contracts.envelope import Envelope
from contracts.events import decode
from contracts.sse import SseEntry
from runtime import logs, schema, sse_buffer
from services.progress.adapters.postgres import UPSERT, migrate, row_of
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


async def rebuild(settings: ProgressSettings) -> dict:
    pool = await schema.pool(settings.database_url, min_size=1, max_size=2)
    redis = Redis(**settings.redis_connection(), decode_responses=True)
    try:
        await migrate(pool)
        async with pool.acquire() as conn, conn.transaction():
            entries = await fold_jobs(conn)
        rebuffered = await sse_buffer.reset(redis, entries)
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
