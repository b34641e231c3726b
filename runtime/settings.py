"""Connection settings every service reads, under the seed's variable names."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from runtime.reconnect import ReconnectPolicy
from runtime.retention import Purge, PurgeFn
from runtime.urls import with_password


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
    redis_password: str | None = Field(None, validation_alias=seed_name("REDIS_PASSWORD"))
    # a password read from a file (a mounted secret, as compose.yaml does) instead of a variable:
    # put into DATABASE_URL / NATS_URL (whose user it is) unless those already carry one
    database_password_file: Path | None = Field(None, validation_alias=seed_name("DATABASE_PASSWORD_FILE"))
    nats_password_file: Path | None = Field(None, validation_alias=seed_name("NATS_PASSWORD_FILE"))
    redis_password_file: Path | None = Field(None, validation_alias=seed_name("REDIS_PASSWORD_FILE"))
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

    @model_validator(mode="after")
    def _passwords_from_files(self) -> Self:
        self.database_url = with_password(self.database_url, _secret(self.database_password_file))
        self.nats_url = with_password(self.nats_url, _secret(self.nats_password_file))
        self.redis_password = self.redis_password or _secret(self.redis_password_file)
        return self

    def redis_connection(self) -> dict[str, Any]:
        """Where Redis is and how to log in: keyword arguments of ``redis.Redis``."""
        return {"host": self.redis_host, "port": self.redis_port, "password": self.redis_password}

    def purge(self, what: str, purge: PurgeFn) -> Purge:
        return Purge(what, purge, self.retention_days, self.retention_interval_s)

    def reconnect_policy(self) -> ReconnectPolicy:
        return ReconnectPolicy(self.reconnect_wait_s, max(self.reconnect_wait_s, self.reconnect_max_wait_s))


def _secret(path: Path | None) -> str | None:
    return path.read_text(encoding="utf-8").strip() or None if path is not None else None
