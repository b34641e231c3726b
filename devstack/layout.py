"""Where the launcher keeps its state: logs, pid files, data directories."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from devstack.credentials import ensure_secret, read_secret

REPO_ROOT = Path(__file__).resolve().parent.parent
HOME_ENV = "DOCLING_JOBS_HOME"
LAUNCHER = "launcher"


def default_home(environ: Mapping[str, str] | None = None) -> Path:
    """$DOCLING_JOBS_HOME, or <repo>/.stack."""
    env = os.environ if environ is None else environ
    value = env.get(HOME_ENV)
    return Path(value).expanduser().resolve() if value else REPO_ROOT / ".stack"


@dataclass(frozen=True)
class Layout:
    """Paths inside one state directory."""

    home: Path

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def run(self) -> Path:
        return self.home / "run"

    @property
    def uploads(self) -> Path:
        return self.home / "uploads"

    @property
    def mcp_cache(self) -> Path:
        return self.home / "mcp-cache"

    @property
    def nats(self) -> Path:
        return self.home / "nats"

    @property
    def valkey(self) -> Path:
        return self.home / "valkey"

    @property
    def secrets(self) -> Path:
        return self.home / "secrets"

    @property
    def mcp_token(self) -> Path:
        """The MCP server's shared secret (its clients send it as a bearer token); mode 0600."""
        return self.secrets / "mcp-token"

    @property
    def postgres_password(self) -> Path:
        """Password of PostgreSQL's role ``docling`` (scram-sha-256); mode 0600."""
        return self.secrets / "postgres-password"

    @property
    def valkey_password(self) -> Path:
        """Valkey's ``requirepass``; mode 0600."""
        return self.secrets / "valkey-password"

    @property
    def nats_password(self) -> Path:
        """Password of NATS's user ``docling`` (clients and cluster routes); mode 0600."""
        return self.secrets / "nats-password"

    def password(self, path: Path) -> str:
        """The secret in ``path`` (one of the properties above), generated on first use."""
        return read_secret(ensure_secret(path))

    @property
    def marker(self) -> Path:
        """Proves the folder is a launcher state dir (clean removes only such folders)."""
        return self.home / ".docling-jobs-stack"

    @property
    def pg_location(self) -> Path:
        """Text file naming the folder that holds PostgreSQL's data (it may live outside home)."""
        return self.home / "postgres-location"

    @property
    def stack_info(self) -> Path:
        """JSON written at start: ports, components, urls (read by status)."""
        return self.run / "stack.json"

    @property
    def supervision(self) -> Path:
        """JSON the launcher's supervisor keeps: restarts, last exit, failed components."""
        return self.run / "supervision.json"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def pid_file(self, name: str) -> Path:
        return self.run / f"{name}.pid"

    def create(self) -> None:
        """Create the folders every component needs."""
        for folder in (self.home, self.logs, self.run, self.uploads, self.mcp_cache, self.nats, self.valkey):
            folder.mkdir(parents=True, exist_ok=True)
        for secret in (self.mcp_token, self.postgres_password, self.valkey_password, self.nats_password):
            ensure_secret(secret)
        self.marker.touch()
