"""Conversion results in PostgreSQL: the converter owns the ``results`` table."""

from __future__ import annotations

import hashlib

import asyncpg

from runtime import schema

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    job_id      uuid        NOT NULL,
    format      text        NOT NULL CHECK (format IN ('markdown', 'html', 'json')),
    content     text        NOT NULL,
    sha256      text        NOT NULL,
    size_bytes  bigint      NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, format)
);
"""


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class ResultStore:
    def __init__(self, pool: asyncpg.Pool | None) -> None:
        self.pool = pool

    async def migrate(self) -> None:
        await schema.create(self.pool, "results", SCHEMA)

    async def purge(self, older_than_s: float) -> int:
        """Retention: drop the results of jobs converted more than ``older_than_s`` ago (jobs counted)."""
        return await self.pool.fetchval(
            "WITH gone AS (DELETE FROM results WHERE created_at < now() - make_interval(secs => $1) "
            "RETURNING job_id) SELECT count(DISTINCT job_id) FROM gone",
            older_than_s,
        )

    async def save(self, job_id: str, outputs: dict[str, str]) -> dict[str, str]:
        """Store every format in one transaction; a second save of the same job changes nothing."""
        rows = [(job_id, fmt, text, digest(text), len(text.encode())) for fmt, text in outputs.items()]
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.executemany(
                "INSERT INTO results (job_id, format, content, sha256, size_bytes) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (job_id, format) DO NOTHING",
                rows,
            )
        return {fmt: sha for _, fmt, _, sha, _ in rows}
