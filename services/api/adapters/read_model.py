"""Reads the durable projection (jobs, event archive) and the converter's results."""

from __future__ import annotations

import json

import asyncpg

from contracts.sse import SseEntry


class ReadModel:
    def __init__(self, pool: asyncpg.Pool | None) -> None:
        self.pool = pool

    async def job(self, job_id: str) -> dict | None:
        row = await self.pool.fetchrow("SELECT * FROM jobs WHERE job_id = $1", job_id)
        return None if row is None else dict(row)

    async def archived_after(self, job_id: str, after: int, upto: int | None = None) -> list[SseEntry]:
        rows = await self.pool.fetch(
            "SELECT job_seq, event_type, envelope FROM event_archive "
            "WHERE job_id = $1 AND job_seq > $2 AND job_seq <= $3 ORDER BY job_seq",
            job_id, after, upto if upto is not None else 2**31 - 1)
        return [SseEntry(r["job_seq"], r["event_type"], json.loads(r["envelope"])) for r in rows]

    async def result(self, job_id: str, fmt: str) -> str | None:
        return await self.pool.fetchval(
            "SELECT content FROM results WHERE job_id = $1 AND format = $2", job_id, fmt)
