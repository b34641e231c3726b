"""Backup settings: where sets go and how long they are kept (the seed: database 30 days, files 90)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from runtime.settings import CommonSettings, seed_name


class BackupSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="BACKUP_", extra="ignore", populate_by_name=True)

    backup_dir: Path = Field(Path(".backups"), validation_alias=seed_name("BACKUP_DIR"))
    upload_dir: Path = Field(Path(".stack/uploads"), validation_alias=seed_name("UPLOAD_DIR"))
    db_retention_days: float = 30.0  # BACKUP_DB_RETENTION_DAYS
    files_retention_days: float = 90.0  # BACKUP_FILES_RETENTION_DAYS
    # a pg_basebackup in each set (needs a replication connection; point-in-time restores need it)
    base_backup: bool = True  # BACKUP_BASE_BACKUP
    # where pg_dump & co. of the server's major version live; unset: looked for (see pgtools)
    postgres_bin_dir: Path | None = Field(None, validation_alias=seed_name("POSTGRES_BIN_DIR"))
