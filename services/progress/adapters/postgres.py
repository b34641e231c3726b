"""The durable projection: an append-only event archive and the jobs table.

A batch is one transaction. Each job's row is locked (jobs in id order, so copies of progress
never deadlock) while its events are archived and numbered, so a job's numbers are contiguous
and follow stream order whichever copy projects which event.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable, Sequence

import asyncpg

from contracts.events import decode
from contracts.sse import SseEntry
from runtime import schema
from runtime.batches import Incoming
from services.progress.domain import JobState, apply, needs_lookup, number

SCHEMA = """
CREATE TABLE IF NOT EXISTS event_archive (
    seq            bigint      PRIMARY KEY,          -- JetStream stream sequence
    job_id         uuid        NOT NULL,
    job_seq        integer     NOT NULL,             -- the event's number within its job = SSE id
    event_id       uuid        NOT NULL UNIQUE,      -- = Nats-Msg-Id
    event_type     text        NOT NULL,
    schema_version integer     NOT NULL,
    occurred_at    timestamptz NOT NULL,
    source         text        NOT NULL,
    envelope       jsonb       NOT NULL,
    archived_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (job_id, job_seq)
);
CREATE OR REPLACE FUNCTION event_archive_is_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN
    IF TG_OP = 'DELETE' AND current_setting('docling_jobs.retention_purge', true) = 'on' THEN
        RETURN OLD;  -- the retention purge, in its own transaction (SET LOCAL), deletes whole jobs
    END IF;
    RAISE EXCEPTION 'event_archive is append-only'; END $$;
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
    last_seq       bigint      NOT NULL DEFAULT 0,
    events         integer     NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at DESC);
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS owner text NOT NULL DEFAULT '';  -- sha256 of the session id
CREATE INDEX IF NOT EXISTS jobs_owner_created ON jobs (owner, created_at DESC, job_id);
-- the API counts an owner's unfinished jobs on every submission (API_OWNER_MAX_QUEUED)
CREATE INDEX IF NOT EXISTS jobs_owner_unfinished ON jobs (owner)
    WHERE status NOT IN ('succeeded', 'failed', 'rejected', 'cancelled');
"""

COLUMNS = [f.name for f in dataclasses.fields(JobState)]
UPSERT = (
    f"INSERT INTO jobs ({', '.join(COLUMNS)}) VALUES "
    f"({', '.join(f'${i}' for i in range(1, len(COLUMNS) + 1))}) "
    f"ON CONFLICT (job_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c != "job_id")
)
_ARCHIVE = (
    "INSERT INTO event_archive (seq, job_id, job_seq, event_id, event_type, schema_version, "
    "occurred_at, source, envelope) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
)


# (job_id, after stream seq, before stream seq) -> the job's events in between, in order
Lookup = Callable[[str, int, int], Awaitable[list[Incoming]]]


async def migrate(pool: asyncpg.Pool) -> None:
    await schema.create(pool, "progress", SCHEMA)


PURGE_BATCH = 1000  # jobs per transaction: a first purge of a large backlog holds no lock for long


async def purge(pool: asyncpg.Pool, older_than_s: float) -> list[str]:
    """Retention: jobs whose last event is older than ``older_than_s``, with their archived events;
    returns the purged job ids."""
    purged: list[str] = []
    while True:
        async with pool.acquire() as conn, conn.transaction():
            gone = await conn.fetch(
                "DELETE FROM jobs WHERE job_id IN (SELECT job_id FROM jobs "
                "WHERE coalesce(updated_at, created_at) < now() - make_interval(secs => $1) LIMIT $2) "
                "RETURNING job_id",
                older_than_s,
                PURGE_BATCH,
            )
            ids = [str(row["job_id"]) for row in gone]
            if ids:
                await conn.execute("SET LOCAL docling_jobs.retention_purge = 'on'")
                await conn.execute("DELETE FROM event_archive WHERE job_id = ANY($1::uuid[])", ids)
        purged += ids
        if len(ids) < PURGE_BATCH:
            return purged


def state_of(row: asyncpg.Record | dict | None) -> JobState | None:
    if row is None:
        return None
    values = dict(row)
    values["job_id"] = str(values["job_id"])
    values["formats"] = tuple(values["formats"] or ())
    return JobState(**values)


def row_of(state: JobState) -> list:
    return [list(state.formats) if c == "formats" else getattr(state, c) for c in COLUMNS]


async def project(
    pool: asyncpg.Pool, batch: Sequence[Incoming], ack_floor: int, lookup: Lookup
) -> list[SseEntry]:
    """Archive and fold a batch; returns the SSE entries of its events (new or already there)."""
    by_job: dict[str, list[Incoming]] = {}
    for item in sorted(batch, key=lambda i: i.seq):
        by_job.setdefault(item.envelope.job_id, []).append(item)
    delivered = frozenset(i.seq for i in batch)
    async with pool.acquire() as conn, conn.transaction():
        states = await _lock(conn, sorted(by_job))  # first: what is archived can change until then
        known = await _archived(conn, [i.envelope.event_id for i in batch])
        entries: list[SseEntry] = []
        archive: list[tuple] = []
        folded: list[JobState] = []
        for job_id, items in by_job.items():
            folder = _Folder(states.get(job_id) or JobState(job_id=job_id), known, entries, archive)
            for item in items:
                if (
                    needs_lookup(folder.state.last_seq, item.seq, ack_floor, delivered)
                    and item.envelope.event_id not in known
                ):
                    missing = await lookup(job_id, folder.state.last_seq, item.seq)
                    # a copy of an archived event (same event id, a later stream sequence: published
                    # again after the duplicate window) is announced again, not archived twice
                    known.update(await _archived(conn, [m.envelope.event_id for m in missing]))
                    for found in missing:
                        folder.add(found)
                folder.add(item)
            folded.append(folder.state)
        await conn.executemany(_ARCHIVE, archive)
        await conn.executemany(UPSERT, [row_of(state) for state in folded])
    return entries


class _Folder:
    """Numbers and folds one job's new events (its row is locked); collects their archive rows."""

    def __init__(
        self, state: JobState, known: dict[str, SseEntry], entries: list[SseEntry], archive: list[tuple]
    ) -> None:
        self.state, self.known, self.entries, self.archive = state, known, entries, archive

    def add(self, item: Incoming) -> None:
        envelope = item.envelope
        if envelope.event_id in self.known:  # redelivered: announce again, change nothing
            self.entries.append(self.known[envelope.event_id])
            return
        self.state, n = number(apply(self.state, decode(envelope), item.seq), item.seq)
        self.archive.append(
            (
                item.seq,
                envelope.job_id,
                n,
                envelope.event_id,
                envelope.event_type,
                envelope.schema_version,
                envelope.occurred_at,
                envelope.source,
                envelope.model_dump_json(),
            )
        )
        entry = SseEntry.of(envelope, n)
        self.known[envelope.event_id] = entry
        self.entries.append(entry)


async def _archived(conn: asyncpg.Connection, event_ids: list[str]) -> dict[str, SseEntry]:
    rows = await conn.fetch(
        "SELECT event_id, job_seq, event_type, envelope FROM event_archive WHERE event_id = ANY($1::uuid[])",
        event_ids,
    )
    return {
        str(r["event_id"]): SseEntry(r["job_seq"], r["event_type"], json.loads(r["envelope"])) for r in rows
    }


async def _lock(conn: asyncpg.Connection, job_ids: list[str]) -> dict[str, JobState]:
    """Lock every job row of the batch, creating missing ones, always in job id order."""
    await conn.execute(
        "INSERT INTO jobs (job_id, status, stage, progress) "
        "SELECT id, 'submitted', 'queued', 0 FROM unnest($1::uuid[]) AS id ORDER BY id "
        "ON CONFLICT (job_id) DO NOTHING",
        job_ids,
    )
    rows = await conn.fetch(
        "SELECT * FROM jobs WHERE job_id = ANY($1::uuid[]) ORDER BY job_id FOR UPDATE", job_ids
    )
    return {str(r["job_id"]): state_of(r) for r in rows}
