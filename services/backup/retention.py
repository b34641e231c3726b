"""Apply the retention plan: database parts after BACKUP_DB_RETENTION_DAYS (30), whole sets and the
pool files no kept set names after BACKUP_FILES_RETENTION_DAYS (90), WAL older than every kept base
backup (``pg_archivecleanup``)."""

from __future__ import annotations

import logging
import subprocess
from datetime import UTC, datetime

from services.backup import domain
from services.backup.adapters import pgtools, store
from services.backup.settings import BackupSettings

log = logging.getLogger(__name__)


def apply(
    backups: store.BackupDir, settings: BackupSettings, now: datetime | None = None
) -> domain.RetentionPlan:
    rules = domain.Retention(settings.db_retention_days, settings.files_retention_days)
    manifests = backups.manifests()
    plan = domain.plan_retention(manifests, now or datetime.now(UTC), rules)
    for set_id in plan.drop_set:
        store.remove(backups.sets / set_id)
    for manifest in (m for m in manifests if m.set_id in plan.drop_database):
        _drop_database_parts(backups, manifest)
    for name in backups.pool_names() - {p.removeprefix("files/") for p in plan.keep_files}:
        (backups.pool / name).unlink()
    if plan.oldest_wal_start and backups.wal.is_dir():
        _clean_wal(backups, plan.oldest_wal_start, settings)
    if plan.drop_set or plan.drop_database:
        log.info(
            "retention applied",
            extra={"dropped_sets": len(plan.drop_set), "dropped_db": len(plan.drop_database)},
        )
    return plan


def _drop_database_parts(backups: store.BackupDir, manifest: domain.Manifest) -> None:
    folder = backups.sets / manifest.set_id
    for part in manifest.parts:
        (folder / part.name).unlink(missing_ok=True)
    kept = manifest.model_copy(update={"parts": [], "wal_start": ""})
    store.write_manifest(folder, kept)


def _clean_wal(backups: store.BackupDir, oldest: str, settings: BackupSettings) -> None:
    dirs = pgtools.candidate_dirs(settings.postgres_bin_dir)
    tool = next((d / "pg_archivecleanup" for d in dirs if (d / "pg_archivecleanup").is_file()), None)
    if tool is None:
        log.warning("pg_archivecleanup not found; the WAL archive was not trimmed")
        return
    subprocess.run([str(tool), str(backups.wal), oldest], check=True, capture_output=True)
