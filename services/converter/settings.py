from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import CommonSettings, seed_name


class ConverterSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="CONVERTER_", extra="ignore", populate_by_name=True)

    mcp_server_url: str = Field("http://127.0.0.1:8000/mcp", validation_alias=seed_name("MCP_SERVER_URL"))
    port: int = Field(3002, validation_alias=seed_name("CONVERTER_PORT"))
    mcp_timeout_s: float = 300.0
    concurrency: int = Field(8, ge=1)  # jobs one converter copy works on at once
