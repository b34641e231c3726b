"""The durable projection: an append-only event archive and the jobs table, in one transaction."""

from __future__ import annotations

import dataclasses

import asyncpg

from contracts.envelope import Envelope, Event
from services.progress.domain import JobState, apply

SCHEMA = """
CREATE TABLE IF NOT EXISTS event_archive (
    seq            bigint      PRIMARY KEY,          -- JetStream stream sequence = SSE id
    event_id       uuid        NOT NULL UNIQUE,      -- = Nats-Msg-Id
    job_id         uuid        NOT NULL,
    event_type     text        NOT NULL,
    schema_version integer     NOT NULL,
    occurred_at    timestamptz NOT NULL,
    source         text        NOT NULL,
    envelope       jsonb       NOT NULL,
    archived_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS event_archive_job_seq ON event_archive (job_id, seq);
CREATE OR REPLACE FUNCTION event_archive_is_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'event_archive is append-only'; END $$;
CREATE OR REPLACE TRIGGER event_archive_append_only
    BEFORE UPDATE OR DELETE ON event_archive
    FOR EACH ROW EXECUTE FUNCTION event_archive_is_append_only();
CREATE TABLE IF NOT EXISTS jobs (
    job_id         uuid        PRIMARY KEY,
    status         text        NOT NULL,
    stage          text        NOT NULL,
    progress       integer     NOT NULL,
    filename       text,
    content_type   text,
    size_bytes     bigint,
    sha256         text,
    error_code     text,
    error_message  text,
    error_recovery text,
    formats        text[]      NOT NULL DEFAULT '{}',
    created_at     timestamptz,
    updated_at     timestamptz,
    last_seq       bigint      NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at DESC);
"""

_COLUMNS = [f.name for f in dataclasses.fields(JobState)]
_UPSERT = (
    f"INSERT INTO jobs ({', '.join(_COLUMNS)}) VALUES "
    f"({', '.join(f'${i}' for i in range(1, len(_COLUMNS) + 1))}) "
    f"ON CONFLICT (job_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS if c != "job_id")
)


async def migrate(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock(hashtext('docling-jobs:progress'))")
        try:
            await conn.execute(SCHEMA)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext('docling-jobs:progress'))")


def _state(row: asyncpg.Record | None) -> JobState | None:
    if row is None:
        return None
    values = dict(row)
    values["job_id"] = str(values["job_id"])
    values["formats"] = tuple(values["formats"] or ())
    return JobState(**values)


def _row(state: JobState) -> list:
    values = dataclasses.asdict(state)
    values["formats"] = list(state.formats)
    return [values[c] for c in _COLUMNS]


async def project(pool: asyncpg.Pool, envelope: Envelope, event: Event, seq: int) -> bool:
    """Archive the event and fold it into its job; False when it was already archived."""
    async with pool.acquire() as conn, conn.transaction():
        archived = await conn.fetchval(
            "INSERT INTO event_archive (seq, event_id, job_id, event_type, schema_version, "
            "occurred_at, source, envelope) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
            "ON CONFLICT DO NOTHING RETURNING seq",
            seq, envelope.event_id, envelope.job_id, envelope.event_type,
            envelope.schema_version, envelope.occurred_at, envelope.source,
            envelope.model_dump_json(),
        )
        if archived is None:
            return False
        row = await conn.fetchrow("SELECT * FROM jobs WHERE job_id = $1 FOR UPDATE", envelope.job_id)
        await conn.execute(_UPSERT, *_row(apply(_state(row), event, seq)))
        return True

