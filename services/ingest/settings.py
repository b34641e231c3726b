from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from runtime.settings import CommonSettings, seed_name


class IngestSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_", extra="ignore", populate_by_name=True)

    upload_dir: Path = Field(Path(".stack/uploads"), validation_alias=seed_name("UPLOAD_DIR"))
    port: int = Field(3001, validation_alias=seed_name("INGEST_PORT"))
