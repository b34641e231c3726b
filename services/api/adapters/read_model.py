"""Reads the durable projection (jobs, event archive) and the converter's results."""

from __future__ import annotations

import asyncio
import json

import asyncpg

from contracts.sse import SseEntry
from contracts.statuses import TERMINAL_STATUSES


class ReadModel:
    """Every call gives up after ``timeout_s`` (TimeoutError: the API answers 503, never hangs)."""

    def __init__(self, pool: asyncpg.Pool | None, timeout_s: float = 5.0) -> None:
        self.pool, self.timeout_s = pool, timeout_s

    async def job(self, job_id: str) -> dict | None:
        async with asyncio.timeout(self.timeout_s):
            row = await self.pool.fetchrow("SELECT * FROM jobs WHERE job_id = $1", job_id)
        return None if row is None else dict(row)

    async def jobs_of(self, owner: str, limit: int, offset: int) -> list[dict]:
        """The owner's jobs, newest first."""
        async with asyncio.timeout(self.timeout_s):
            rows = await self.pool.fetch(
                "SELECT * FROM jobs WHERE owner = $1 ORDER BY created_at DESC, job_id DESC "
                "LIMIT $2 OFFSET $3",
                owner,
                limit,
                offset,
            )
        return [dict(r) for r in rows]

    async def unfinished_of(self, owner: str) -> int:
        """How many of the owner's jobs have no outcome yet (index ``jobs_owner_unfinished``)."""
        async with asyncio.timeout(self.timeout_s):
            return int(
                await self.pool.fetchval(
                    "SELECT count(*) FROM jobs WHERE owner = $1 AND status <> ALL($2::text[])",
                    owner,
                    sorted(TERMINAL_STATUSES),
                )
            )

    async def archived_after(self, job_id: str, after: int, upto: int | None = None) -> list[SseEntry]:
        async with asyncio.timeout(self.timeout_s):
            return await self._archived_after(job_id, after, upto)

    async def _archived_after(self, job_id: str, after: int, upto: int | None) -> list[SseEntry]:
        rows = await self.pool.fetch(
            "SELECT job_seq, event_type, envelope FROM event_archive "
            "WHERE job_id = $1 AND job_seq > $2 AND job_seq <= $3 ORDER BY job_seq",
            job_id,
            after,
            upto if upto is not None else 2**31 - 1,
        )
        return [SseEntry(r["job_seq"], r["event_type"], json.loads(r["envelope"])) for r in rows]

    async def result(self, job_id: str, fmt: str) -> str | None:
        async with asyncio.timeout(self.timeout_s):
            return await self.pool.fetchval(
                "SELECT content FROM results WHERE job_id = $1 AND format = $2", job_id, fmt
            )

    async def results(self, job_id: str, formats: list[str]) -> dict[str, str]:
        """The job's stored results in these formats (format -> content), in one query."""
        async with asyncio.timeout(self.timeout_s):
            rows = await self.pool.fetch(
                "SELECT format, content FROM results WHERE job_id = $1 AND format = ANY($2::text[])",
                job_id,
                formats,
            )
        return {r["format"]: r["content"] for r in rows}
