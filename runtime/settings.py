"""Connection settings every service reads, under the seed's variable names."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from runtime.reconnect import ReconnectPolicy
from runtime.retention import Purge, PurgeFn


def seed_name(name: str) -> AliasChoices:
    """Read a field from the seed's un-prefixed variable name (``DATABASE_URL``, ...)."""
    return AliasChoices(name)


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    nats_url: str = Field("nats://127.0.0.1:4222", validation_alias=seed_name("NATS_URL"))
    redis_host: str = Field("127.0.0.1", validation_alias=seed_name("REDIS_HOST"))
    redis_port: int = Field(6379, validation_alias=seed_name("REDIS_PORT"))
    mcp_server_url: str = Field("http://127.0.0.1:8000/mcp", validation_alias=seed_name("MCP_SERVER_URL"))
    database_url: str = Field(
        "postgresql://docling@127.0.0.1:5432/docling", validation_alias=seed_name("DATABASE_URL")
    )
    stream_replicas: int = Field(1, validation_alias=seed_name("NATS_STREAM_REPLICAS"))
    stream_max_age_days: float = Field(7.0, validation_alias=seed_name("NATS_STREAM_MAX_AGE_DAYS"))
    ack_wait_s: float = Field(30.0, validation_alias=seed_name("NATS_ACK_WAIT_S"))
    max_deliver: int = Field(5, validation_alias=seed_name("NATS_MAX_DELIVER"))
    # reconnecting for ever: first wait, doubling up to the cap, +/- 20 % jitter (NATS, and the
    # waits of a message whose handler meets a PostgreSQL/Redis/NATS outage)
    reconnect_wait_s: float = Field(0.5, validation_alias=seed_name("RECONNECT_WAIT_S"))
    reconnect_max_wait_s: float = Field(10.0, validation_alias=seed_name("RECONNECT_MAX_WAIT_S"))
    # each service deletes its data about jobs older than this (0: keep everything), this often
    retention_days: float = Field(30.0, ge=0, validation_alias=seed_name("JOB_RETENTION_DAYS"))
    retention_interval_s: float = Field(3600.0, gt=0, validation_alias=seed_name("JOB_RETENTION_INTERVAL_S"))
    log_level: str = Field("INFO", validation_alias=seed_name("LOG_LEVEL"))
    bind_host: str = Field("127.0.0.1", validation_alias=seed_name("BIND_HOST"))

    def purge(self, what: str, purge: PurgeFn) -> Purge:
        return Purge(what, purge, self.retention_days, self.retention_interval_s)

    def reconnect_policy(self) -> ReconnectPolicy:
        return ReconnectPolicy(self.reconnect_wait_s, max(self.reconnect_wait_s, self.reconnect_max_wait_s))
