"""The steps of a restore, each usable on its own (the embedded launcher runs them in order:
``python -m devstack restore``; see CLAUDE.md "Backup & Recovery" for compose)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import tarfile
from datetime import datetime
from pathlib import Path

import asyncpg
from nats.js import JetStreamContext
from redis.asyncio import Redis

from contracts.sse import SseEntry
from runtime import sse_buffer
from services.backup import domain
from services.backup.adapters import database, eventlog, pgtools, sessions, store
from services.backup.settings import BackupSettings

log = logging.getLogger(__name__)
RECOVERY_KEYS = ("restore_command", "recovery_target", "recovery_end_command")
PROMOTE_TIMEOUT_S = 300.0


def lay_down_postgres(
    folder: Path, pgdata: Path, wal: Path, until: datetime | None, owner: tuple[int, int] | None
) -> None:
    """Replace ``pgdata`` with the set's base backup, set to replay the WAL archive (up to
    ``until``, else to its end) and then promote."""
    manifest = store.read_manifest(folder)
    if until is not None and until < manifest.created_at:
        raise ValueError(f"set {manifest.set_id} was taken after {until.isoformat()}: choose an older set")
    base = folder / database.BASE
    if not (base / "base.tar").is_file():
        raise FileNotFoundError(f"set {manifest.set_id} has no base backup (dropped by retention?)")
    shutil.rmtree(pgdata, ignore_errors=True)
    pgdata.mkdir(parents=True, mode=0o700)
    with tarfile.open(base / "base.tar") as tar:
        tar.extractall(pgdata, filter="fully_trusted")
    with tarfile.open(base / "pg_wal.tar") as tar:
        tar.extractall(pgdata / "pg_wal", filter="fully_trusted")
    _recovery_settings(pgdata, wal, until)
    if owner is not None:
        for path in [pgdata, *pgdata.rglob("*")]:
            os.lchown(path, *owner)


def _recovery_settings(pgdata: Path, wal: Path, until: datetime | None) -> None:
    conf = pgdata / "postgresql.auto.conf"
    lines = [
        line for line in (conf.read_text().splitlines() if conf.exists() else [])
        if not line.strip().startswith(RECOVERY_KEYS)
    ]  # fmt: skip
    lines.append(f'restore_command = \'cp "{wal}/%f" "%p"\'')
    if until is not None:
        lines += [f"recovery_target_time = '{until.isoformat()}'", "recovery_target_action = 'promote'"]
    conf.write_text("\n".join(lines) + "\n")
    (pgdata / "recovery.signal").touch()


async def restore_dump(settings: BackupSettings, folder: Path) -> None:
    """Without a base backup (a deployment whose server takes no replication connection): replace
    the database's objects with the set's dump. No point in time: the dump's moment."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        version = int(await conn.fetchval("SHOW server_version_num"))
    finally:
        await conn.close()
    bin_dir = pgtools.bin_dir_for(version, settings.postgres_bin_dir)
    await pgtools.run([str(bin_dir / "pg_restore"), "--clean", "--if-exists", "--no-owner", "--exit-on-error",
                       "-d", settings.database_url, str(folder / database.DUMP)])  # fmt: skip


async def wait_promoted(url: str, timeout: float = PROMOTE_TIMEOUT_S) -> None:
    """Until recovery has finished and the server takes writes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            conn = await asyncpg.connect(url, timeout=2)
            try:
                if not await conn.fetchval("SELECT pg_is_in_recovery()"):
                    return
            finally:
                await conn.close()
        except (OSError, asyncpg.PostgresError):
            pass
        await asyncio.sleep(0.2)
    raise TimeoutError(f"PostgreSQL was still recovering after {timeout:.0f} s")


def restore_files(settings: BackupSettings, folder: Path) -> int:
    """Copy back every upload the set names that is missing (content checked against its name)."""
    backups, manifest, copied = store.BackupDir(settings.backup_dir), store.read_manifest(folder), 0
    for part in manifest.files:
        relative = part.name.removeprefix("files/")
        target = settings.upload_dir / relative
        if target.exists() or not domain.safe_relative(relative):
            continue
        found = store.measure(backups.pool / relative)
        if found is None or found.sha256 != part.sha256:
            raise ValueError(f"pool file {relative} is missing or damaged; run backup-verify")
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        shutil.copyfile(backups.pool / relative, target)
        os.chmod(target, 0o644)
        copied += 1
    return copied


async def reconcile_event_log(settings: BackupSettings, folder: Path, until: bool) -> dict[str, object]:
    """Bring the event log and the restored database together (PostgreSQL and NATS up, the
    services not yet): re-project what the surviving stream holds after the copy, or rebuild it."""
    manifest = store.read_manifest(folder)
    nc = await eventlog.connect(settings.nats_url)
    conn = await asyncpg.connect(settings.database_url)
    try:
        js = nc.jetstream()
        current = await eventlog.state(js)
        action = domain.event_log_action(
            current.first_seq if current else None,
            current.last_seq if current else None,
            manifest.stream,
            until,
        )
        if action == "reproject":
            assert manifest.stream is not None
            await eventlog.reproject_after(js, settings, manifest.stream.archived_through)
            return {"event_log": action, "from_seq": manifest.stream.archived_through + 1}
        return {"event_log": action, **await _rebuild(js, conn, settings)}
    finally:
        await conn.close()
        await nc.close()


async def _rebuild(
    js: JetStreamContext, conn: asyncpg.Connection, settings: BackupSettings
) -> dict[str, int]:
    events = await database.archived_events(conn)
    first = domain.republished_start(max((e.seq for e in events), default=0))
    chosen = domain.to_republish(events)
    newest = await eventlog.rebuild(js, settings, first, chosen)
    # each republished job's newest event now sits at a new sequence: the projection's gap check
    # must start there, not at the old one
    await conn.executemany("UPDATE jobs SET last_seq = $2 WHERE job_id = $1::uuid", list(newest.items()))
    return {"first_seq": first, "republished": len(chosen), "jobs": len(newest)}


async def rebuild_projections(settings: BackupSettings, folder: Path) -> dict[str, int]:
    """The Redis side (services running): SSE buffers and history markers from the archive, and the
    sessions the set holds."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch(
            "SELECT job_id, job_seq, event_type, envelope::text AS envelope "
            "FROM event_archive ORDER BY job_id, job_seq"
        )
    finally:
        await conn.close()
    entries: dict[str, list[SseEntry]] = {}
    for row in rows:
        entries.setdefault(str(row["job_id"]), []).append(
            SseEntry(row["job_seq"], row["event_type"], json.loads(row["envelope"]))
        )
    redis = Redis(**settings.redis_connection(), decode_responses=True)
    try:
        rebuffered = await sse_buffer.reset(redis, entries)
        part = folder / sessions.SESSIONS
        restored = await sessions.load(redis, part) if part.exists() else 0
    finally:
        await redis.aclose()
    return {"jobs": len(entries), "rebuffered": rebuffered, "sessions": restored}
