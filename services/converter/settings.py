from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from runtime.settings import CommonSettings, seed_name
from services.converter.breaker import PROBE_TIMEOUT_S, Config
from services.converter.domain import OWNER_WAIT_S, PROGRESS_INTERVAL_S, QUEUE_TIMEOUT_S, Patience


class ConverterSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="CONVERTER_", extra="ignore", populate_by_name=True)

    mcp_server_url: str = Field("http://127.0.0.1:8000/mcp", validation_alias=seed_name("MCP_SERVER_URL"))
    # the MCP server's shared secret, sent as a bearer token (the first, when several are listed)
    mcp_server_token: SecretStr = Field(SecretStr(""), validation_alias=seed_name("MCP_SERVER_TOKEN"))
    mcp_server_token_file: Path | None = Field(None, validation_alias=seed_name("MCP_SERVER_TOKEN_FILE"))
    port: int = Field(3002, validation_alias=seed_name("CONVERTER_PORT"))
    mcp_timeout_s: float = 300.0  # running time of one tool call (E207 past it)
    mcp_queue_timeout_s: float = Field(QUEUE_TIMEOUT_S, gt=0)  # waiting for a worker (E211: the job waits)
    concurrency: int = Field(8, ge=1)  # jobs one converter copy works on at once
    mcp_sessions: int = Field(2, ge=1)  # long-lived MCP sessions one copy keeps open; jobs share them
    progress_interval_s: float = Field(PROGRESS_INTERVAL_S, ge=0)  # least time between progress events

    # the circuit breaker around the MCP server (the seed's failureThreshold, resetTimeout, monitoringPeriod)
    breaker_name: str = "docling-mcp"  # Redis key circuit:{name}; copies with the same name share it
    breaker_failure_threshold: int = Field(Config.failure_threshold, ge=1)
    breaker_reset_timeout_s: float = Field(Config.reset_timeout_s, gt=0)
    breaker_window_s: float = Field(Config.window_s, gt=0)
    breaker_probe_timeout_s: float = Field(PROBE_TIMEOUT_S, gt=0)  # the half-open trial: session + tools/list

    # what a job does when the server fails in a way that trips the breaker (domain.Patience says each)
    retry_delay_s: float = Field(Patience.retry_delay_s, ge=0)
    max_attempts: int = Field(Patience.max_attempts, ge=1)
    defer_limit_s: float = Field(Patience.defer_limit_s, gt=0)
    wait_poll_s: float = Field(Patience.poll_s, gt=0)

    # each owner's share (CLAUDE.md "Fair sharing"): conversions in progress at once, across copies;
    # a lease lapses this long after its copy last renewed it; a job over the share looks again after
    owner_max_active: int = Field(2, ge=1)
    owner_lease_s: float = Field(30.0, gt=0)
    owner_wait_s: float = Field(OWNER_WAIT_S, gt=0)

    checkpoint_max_age_days: float = Field(7.0, gt=0)  # checkpoints of failed jobs are purged after

    def mcp_token(self) -> str:
        """The secret this converter presents ('' for a server without auth, e.g. the official one)."""
        listed = self.mcp_server_token.get_secret_value().split(",")
        if self.mcp_server_token_file is not None:
            listed += self.mcp_server_token_file.read_text(encoding="utf-8").splitlines()
        return next((token.strip() for token in listed if token.strip()), "")

    def breaker_config(self) -> Config:
        return Config.with_probe(
            self.breaker_failure_threshold,
            self.breaker_reset_timeout_s,
            self.breaker_window_s,
            self.breaker_probe_timeout_s,
        )
