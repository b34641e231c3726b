from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import CommonSettings, seed_name


class ApiSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="API_", extra="ignore", populate_by_name=True)

    port: int = Field(3000, validation_alias=seed_name("API_PORT"))
    max_file_size_mb: int = Field(100, validation_alias=seed_name("MAX_FILE_SIZE_MB"))
    sse_heartbeat_s: float = 15.0
    sse_retry_ms: int = 1000

    @property
    def max_file_size_bytes(self) -> int:
        return self.max_file_size_mb * 1024 * 1024
