"""A restore while NATS survived: the database copy is older than the stream, and the events after it
(already acknowledged by progress before the disaster) are archived and projected again, not lost.

A small stack of its own (PostgreSQL, NATS, Valkey, progress) without a WAL archive, so the restored
database is exactly the backup's, behind the stream."""

from __future__ import annotations

import asyncio
import pwd
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from contracts.envelope import Event
from contracts.events import JobCancelled, JobCancelRequested
from devstack import Ports, Stack
from devstack.postgres import plan
from runtime import bus
from services.backup import backup, restore
from services.backup.adapters import eventlog
from services.backup.settings import BackupSettings
from tests.waiting import wait_for


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(
        tmp_path_factory.mktemp("survivor"),
        Ports.free(),
        components=("postgres", "nats", "valkey", "progress"),
    )
    with pytest.MonkeyPatch.context() as env:
        env.delenv("BACKUP_DIR", raising=False)  # no WAL archive: the restore stops at the backup
        try:
            stack.start()
            yield stack
        finally:
            stack.purge()


async def _publish(nats_url: str, *events: Event) -> None:
    broker = bus.broker(nats_url, "test-restore")
    await broker.connect()
    try:
        for event in events:
            await bus.publish(broker, event)
    finally:
        await broker.stop()


def _settings(stack: Stack, backups: Path) -> BackupSettings:
    env = stack.env()
    return BackupSettings(
        database_url=env["DATABASE_URL"],
        nats_url=env["NATS_URL"],
        redis_host=env["REDIS_HOST"],
        redis_port=int(env["REDIS_PORT"]),
        redis_password=env["REDIS_PASSWORD"],
        upload_dir=stack.layout.uploads,
        backup_dir=backups,
    )


async def _archived(url: str) -> list[tuple[str, int, str]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT job_id::text, job_seq, event_type FROM event_archive ORDER BY seq")
    finally:
        await conn.close()
    return [(r["job_id"], r["job_seq"], r["event_type"]) for r in rows]


async def _acknowledged_all(settings: BackupSettings) -> bool:
    nc = await eventlog.connect(settings.nats_url)
    try:
        position = await eventlog.position(nc.jetstream())
    finally:
        await nc.close()
    return position is not None and position.archived_through == position.stream_last_seq


def test_events_after_the_copy_come_back_from_the_surviving_stream(small: Stack, tmp_path: Path) -> None:
    settings = _settings(small, tmp_path / "backups")
    url = settings.database_url
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    request = JobCancelRequested(job_id=first, source="test")
    asyncio.run(_publish(settings.nats_url, request))
    wait_for(lambda: asyncio.run(_acknowledged_all(settings)), 60, "progress to acknowledge the first event")
    folder = asyncio.run(backup.take(settings))

    later = (JobCancelled(job_id=first, source="test", requested_by=request.event_id),
             JobCancelRequested(job_id=second, source="test"))  # fmt: skip
    asyncio.run(_publish(settings.nats_url, *later))
    before = wait_for(lambda: asyncio.run(_has(url, 3)), 60, "the later events to be archived")

    small.kill("progress")
    small.kill("postgres")
    wait_for(lambda: small.pid("postgres") is None and small.pid("progress") is None, 30, "both to die")
    pg = plan(small.layout)
    shutil.rmtree(pg.data_dir)
    owner = None if pg.run_as is None else pwd.getpwnam(pg.run_as.user)[2:4]
    restore.lay_down_postgres(folder, pg.data_dir, tmp_path / "no-wal-archive", None, owner)
    small.start_component("postgres")
    asyncio.run(restore.wait_promoted(url))
    assert [e[2] for e in asyncio.run(_archived(url))] == ["JobCancelRequested"]  # the copy is behind

    report = asyncio.run(restore.reconcile_event_log(settings, folder, until=False))
    assert report == {"event_log": "reproject", "from_seq": 2}
    small.start_component("progress")
    after = wait_for(lambda: asyncio.run(_has(url, 3)), 60, "the events after the copy to be archived again",
                     tolerate=(OSError, asyncpg.PostgresError))  # fmt: skip
    assert (
        after
        == before
        == [
            (first, 1, "JobCancelRequested"),
            (first, 2, "JobCancelled"),
            (second, 1, "JobCancelRequested"),
        ]
    )


async def _has(url: str, count: int) -> list[tuple[str, int, str]] | None:
    rows = await _archived(url)
    return rows if len(rows) >= count else None
