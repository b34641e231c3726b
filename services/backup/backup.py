"""Take one backup set: stream position, then one database snapshot (dump, counts), a base backup,
the sessions, the new upload files; the manifest last, marked complete once every check passed."""

from __future__ import annotations

import importlib.metadata
import logging
from datetime import UTC, datetime
from pathlib import Path

from redis.asyncio import Redis

from services.backup import domain, retention
from services.backup.adapters import database, eventlog, pgtools, sessions, store
from services.backup.settings import BackupSettings

log = logging.getLogger(__name__)


async def take(settings: BackupSettings) -> Path:
    backups = store.BackupDir(settings.backup_dir)
    started = datetime.now(UTC)
    folder = backups.new_set(domain.new_set_id(started))
    try:
        manifest = await _database_parts(settings, folder, await _position(settings))
        manifest = manifest.model_copy(update={"files": _copy_uploads(backups, settings.upload_dir)})
        count = await _sessions(settings, folder)
        parts = [store.part_of(folder, name) for name in _part_names(folder)]
        manifest = manifest.model_copy(
            update={"parts": parts, "versions": {**manifest.versions, "sessions": str(count)}}
        )
        store.write_manifest(folder, manifest.with_finish(datetime.now(UTC)))
    except BaseException:
        store.remove(folder)  # never leave a set that looks usable and is not
        raise
    retention.apply(backups, settings)
    return folder


def _part_names(folder: Path) -> list[str]:
    base = folder / database.BASE
    in_base = sorted(p.name for p in base.iterdir()) if base.is_dir() else []
    return [database.DUMP, *(f"{database.BASE}/{name}" for name in in_base), sessions.SESSIONS]


async def _position(settings: BackupSettings) -> domain.StreamPosition | None:
    """Read before the snapshot: what progress acknowledged is already committed."""
    try:
        nc = await eventlog.connect(settings.nats_url)
    except Exception:  # NATS away: the restore will rebuild the stream from the archive
        log.warning("NATS unreachable; the set records no stream position")
        return None
    try:
        return await eventlog.position(nc.jetstream())
    finally:
        await nc.close()


async def _database_parts(
    settings: BackupSettings, folder: Path, position: domain.StreamPosition | None
) -> domain.Manifest:
    url = settings.database_url
    async with database.snapshot(url) as snap:
        created = datetime.now(UTC)
        bin_dir = pgtools.bin_dir_for(snap.server_version_num, settings.postgres_bin_dir)
        await database.dump(bin_dir, url, snap.snapshot_id, folder / database.DUMP)
    wal_start = (
        await database.base_backup(bin_dir, url, folder / database.BASE) if settings.base_backup else ""
    )
    pg_dump = (await pgtools.run([str(bin_dir / "pg_dump"), "--version"])).strip()
    return domain.Manifest(
        set_id=folder.name,
        created_at=created,
        versions={"postgres": snap.server_version, "pg_dump": pg_dump, "app": _app_version()},
        rows=snap.rows,
        results_sha256_ok=snap.results_sha256_ok,
        max_archived_seq=snap.max_archived_seq,
        stream=position,
        wal_start=wal_start,
    )


def _copy_uploads(backups: store.BackupDir, upload_dir: Path) -> list[domain.Part]:
    current = store.uploads(upload_dir)
    in_pool = backups.pool_names()
    for relative in domain.to_copy(current, in_pool):
        backups.add_to_pool(current[relative], relative)
    return [
        domain.Part(
            name=f"files/{rel}",
            size=(backups.pool / rel).stat().st_size,
            sha256=domain.content_sha(rel) or "",
        )
        for rel in sorted(current)
    ]


async def _sessions(settings: BackupSettings, folder: Path) -> int:
    redis = Redis(**settings.redis_connection(), decode_responses=True)
    try:
        return await sessions.save(redis, folder / sessions.SESSIONS)
    finally:
        await redis.aclose()


def _app_version() -> str:
    try:
        return importlib.metadata.version("docling-jobs")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
