"""docling-serve tasks: one task id over the jobs of one request, in PostgreSQL (``compat_tasks``).

The jobs themselves are ordinary jobs of the pipeline; this table only remembers which jobs a task
id stands for, whose they are, and what the request asked to get back.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from runtime import schema
from services.api.compat.models import TaskType

SCHEMA = """
CREATE TABLE IF NOT EXISTS compat_tasks (
    task_id     uuid        PRIMARY KEY,
    owner       text        NOT NULL,
    job_ids     text[]      NOT NULL,
    filenames   text[]      NOT NULL,
    to_formats  text[]      NOT NULL,
    target      text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE compat_tasks ADD COLUMN IF NOT EXISTS task_type text NOT NULL DEFAULT 'convert';
ALTER TABLE compat_tasks ADD COLUMN IF NOT EXISTS chunking jsonb;  -- a chunk task's options
"""


@dataclass(frozen=True)
class Task:
    task_id: str
    owner: str
    job_ids: tuple[str, ...]
    filenames: tuple[str, ...]
    to_formats: tuple[str, ...]
    target: str  # "inbody" or "zip"
    task_type: TaskType = "convert"
    chunking: dict[str, Any] | None = None  # a chunk task's chunking options, include_converted_doc


class TaskStore:
    def __init__(self, pool: asyncpg.Pool, timeout_s: float) -> None:
        self.pool, self.timeout_s = pool, timeout_s

    async def migrate(self) -> None:
        await schema.create(self.pool, "compat_tasks", SCHEMA)

    async def save(self, task: Task) -> None:
        async with asyncio.timeout(self.timeout_s):
            await self.pool.execute(
                "INSERT INTO compat_tasks "
                "(task_id, owner, job_ids, filenames, to_formats, target, task_type, chunking) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                task.task_id,
                task.owner,
                list(task.job_ids),
                list(task.filenames),
                list(task.to_formats),
                task.target,
                task.task_type,
                None if task.chunking is None else json.dumps(task.chunking),
            )

    async def get(self, task_id: str, owner: str) -> Task | None:
        """The task if this owner made it (someone else's task looks like none)."""
        async with asyncio.timeout(self.timeout_s):
            row = await self.pool.fetchrow(
                "SELECT * FROM compat_tasks WHERE task_id = $1 AND owner = $2", task_id, owner
            )
        if row is None:
            return None
        return Task(
            str(row["task_id"]),
            row["owner"],
            tuple(row["job_ids"]),
            tuple(row["filenames"]),
            tuple(row["to_formats"]),
            row["target"],
            row["task_type"],
            None if row["chunking"] is None else json.loads(row["chunking"]),
        )

    async def purge(self, older_than_s: float) -> int:
        """Retention: every owner's task ids older than ``older_than_s``."""
        async with asyncio.timeout(self.timeout_s):
            done = await self.pool.execute(
                "DELETE FROM compat_tasks WHERE created_at < now() - make_interval(secs => $1)", older_than_s
            )
        return int(done.split()[-1])

    async def forget_older_than(self, owner: str, seconds: float) -> int:
        """``/v1/clear/results``: drop this owner's task ids older than ``seconds`` (the jobs stay)."""
        async with asyncio.timeout(self.timeout_s):
            done = await self.pool.execute(
                "DELETE FROM compat_tasks "
                "WHERE owner = $1 AND created_at < now() - make_interval(secs => $2)",
                owner,
                seconds,
            )
        return int(done.split()[-1])
