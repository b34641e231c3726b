"""Checkpoints in PostgreSQL: the converter owns ``checkpoints`` and ``checkpoint_parts``."""

from __future__ import annotations

import logging

import asyncpg

from runtime import schema
from services.converter.checkpoint_format import Checkpoint, UnknownVersion, decode, encode

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (
    job_id      uuid        PRIMARY KEY,
    body        text        NOT NULL CHECK (octet_length(body) <= 1048576),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS checkpoint_parts (
    job_id      uuid        NOT NULL REFERENCES checkpoints (job_id) ON DELETE CASCADE,
    format      text        NOT NULL CHECK (format IN ('markdown', 'html', 'json')),
    content     text        NOT NULL,
    PRIMARY KEY (job_id, format)
);
"""


class CheckpointStore:
    def __init__(self, pool: asyncpg.Pool | None) -> None:
        self.pool = pool

    async def migrate(self) -> None:
        await schema.create(self.pool, "checkpoints", SCHEMA)

    async def save(self, job_id: str, checkpoint: Checkpoint) -> None:
        """Write the checkpoint and its large parts in one transaction (all or nothing).

        Committed without waiting for the WAL flush (``synchronous_commit = off``): a checkpoint only
        saves work, so a PostgreSQL crash that loses the last fraction of a second of them makes a
        job redo a stage, never lose one; the flush wait was most of a save's time."""
        body, parts = encode(checkpoint)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL synchronous_commit TO off")
            await conn.execute(
                "INSERT INTO checkpoints (job_id, body) VALUES ($1, $2) "
                "ON CONFLICT (job_id) DO UPDATE SET body = EXCLUDED.body, updated_at = now()",
                job_id,
                body,
            )
            await conn.executemany(
                "INSERT INTO checkpoint_parts (job_id, format, content) VALUES ($1, $2, $3) "
                "ON CONFLICT (job_id, format) DO UPDATE SET content = EXCLUDED.content",
                [(job_id, part.fmt, part.text) for part in parts],
            )

    async def load(self, job_id: str) -> Checkpoint | None:
        """The job's checkpoint, migrated to the current version; None when there is none or it
        cannot be read (then the job starts over, which is always safe)."""
        async with self.pool.acquire() as conn:
            body = await conn.fetchval("SELECT body FROM checkpoints WHERE job_id = $1", job_id)
            if body is None:
                return None
            rows = await conn.fetch("SELECT format, content FROM checkpoint_parts WHERE job_id = $1", job_id)
        try:
            return decode(body, {r["format"]: r["content"] for r in rows})
        except (UnknownVersion, ValueError, KeyError, TypeError) as error:
            log.warning("checkpoint unreadable; starting over", extra={"job_id": job_id, "error": str(error)})
            return None

    async def clear(self, job_id: str) -> bool:
        """Remove a job's checkpoint (its parts go with it). True when there was one."""
        return (
            await self.pool.fetchval(
                "WITH gone AS (DELETE FROM checkpoints WHERE job_id = $1 RETURNING 1) "
                "SELECT count(*) FROM gone",
                job_id,
            )
            > 0
        )

    async def purge(self, older_than_s: float) -> int:
        """Remove checkpoints not updated for ``older_than_s`` (those of failed jobs)."""
        return await self.pool.fetchval(
            "WITH gone AS (DELETE FROM checkpoints WHERE updated_at < now() - make_interval(secs => $1) "
            "RETURNING 1) SELECT count(*) FROM gone",
            older_than_s,
        )
