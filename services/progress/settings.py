from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from runtime.settings import CommonSettings, seed_name


class ProgressSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="PROGRESS_", extra="ignore", populate_by_name=True)

    port: int = Field(3003, validation_alias=seed_name("PROGRESS_PORT"))
