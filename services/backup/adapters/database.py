"""The database side of a set: one snapshot for the dump, the row counts and the stream position;
a base backup for point-in-time recovery; the queries a restore and a verification need."""

from __future__ import annotations

import tarfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from contracts.events import TERMINAL_EVENT_TYPES
from services.backup.adapters import pgtools
from services.backup.domain import ArchivedEvent

DUMP = "postgres.dump"
BASE = "base"  # folder of the base backup (tar format: base.tar, pg_wal.tar, backup_manifest)


@dataclass(frozen=True)
class Snapshot:
    """An exported snapshot held open by ``conn``, and what was counted in it."""

    snapshot_id: str
    rows: dict[str, int]
    results_sha256_ok: int
    max_archived_seq: int
    server_version_num: int
    server_version: str


@asynccontextmanager
async def snapshot(url: str) -> AsyncIterator[Snapshot]:
    """A repeatable-read transaction whose snapshot pg_dump shares (``--snapshot``): the counts,
    the checksum tally and the dump see exactly the same rows."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot_id = await conn.fetchval("SELECT pg_export_snapshot()")
            yield Snapshot(
                snapshot_id,
                await count_rows(conn),
                await results_matching(conn),
                await max_archived_seq(conn),
                int(await conn.fetchval("SHOW server_version_num")),
                str(await conn.fetchval("SHOW server_version")),
            )
    finally:
        await conn.close()


async def count_rows(conn: asyncpg.Connection) -> dict[str, int]:
    tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
    return {t["tablename"]: await conn.fetchval(f'SELECT count(*) FROM "{t["tablename"]}"') for t in tables}


async def results_matching(conn: asyncpg.Connection) -> int:
    """Results whose stored content still hashes to their recorded sha256."""
    if not await conn.fetchval("SELECT to_regclass('public.results') IS NOT NULL"):
        return 0
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM results WHERE encode(sha256(convert_to(content, 'UTF8')), 'hex') = sha256"
        )
    )


async def max_archived_seq(conn: asyncpg.Connection) -> int:
    if not await conn.fetchval("SELECT to_regclass('public.event_archive') IS NOT NULL"):
        return 0
    return int(await conn.fetchval("SELECT coalesce(max(seq), 0) FROM event_archive"))


async def dump(bin_dir: Path, url: str, snapshot_id: str, target: Path) -> None:
    """pg_dump in custom format from the snapshot, then ``pg_restore --list`` must read it."""
    await pgtools.run(
        [str(bin_dir / "pg_dump"), "-Fc", "--snapshot", snapshot_id, "-f", str(target), "-d", url]
    )
    listing = await pgtools.run([str(bin_dir / "pg_restore"), "--list", str(target)])
    if "TABLE DATA" not in listing:
        raise pgtools.ToolError(f"pg_restore --list shows no table data in {target}")


async def base_backup(bin_dir: Path, url: str, target: Path) -> str:
    """pg_basebackup (tar format, its WAL streamed alongside); the first WAL file it needs."""
    await pgtools.run(
        [str(bin_dir / "pg_basebackup"), "-d", url, "-D", str(target), "-Ft", "-X", "stream",
         "--checkpoint=fast", "--no-password"]
    )  # fmt: skip
    return wal_start(target / "base.tar")


def wal_start(base_tar: Path) -> str:
    """``START WAL LOCATION: 0/2000028 (file 000000010000000000000002)`` from the backup_label."""
    with tarfile.open(base_tar) as tar:
        member = tar.extractfile("backup_label")
        assert member is not None, "a base backup always has a backup_label"
        for line in member.read().decode().splitlines():
            if line.startswith("START WAL LOCATION"):
                return line.rsplit("file ", 1)[1].rstrip(")")
    raise ValueError(f"no START WAL LOCATION in {base_tar}")


async def archived_events(conn: asyncpg.Connection) -> list[ArchivedEvent]:
    rows = await conn.fetch(
        "SELECT seq, job_id, job_seq, event_id, event_type, envelope::text AS envelope "
        "FROM event_archive ORDER BY seq"
    )
    return [
        ArchivedEvent(
            r["seq"],
            str(r["job_id"]),
            r["job_seq"],
            str(r["event_id"]),
            r["event_type"],
            r["event_type"] in TERMINAL_EVENT_TYPES,
            r["envelope"],
        )
        for r in rows
    ]
