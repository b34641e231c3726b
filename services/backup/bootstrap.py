"""The one place that wires the backup's adapters: its settings, the log format, the backup folder."""

from __future__ import annotations

from dataclasses import dataclass

from runtime import logs
from services.backup.adapters.store import BackupDir
from services.backup.settings import BackupSettings


@dataclass(frozen=True)
class Deps:
    settings: BackupSettings
    backups: BackupDir


def build(settings: BackupSettings | None = None) -> Deps:
    """Real settings from the environment unless given; JSON log lines on stdout."""
    settings = settings or BackupSettings()
    logs.configure("backup", settings.log_level)
    return Deps(settings=settings, backups=BackupDir(settings.backup_dir))
