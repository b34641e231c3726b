"""Secrets the launcher generates at first start: one file each, mode 0600, in the state dir."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def ensure_secret(path: Path) -> Path:
    """Create ``path`` with a fresh random secret unless it exists; either way leave it mode 0600."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
    path.chmod(0o600)
    return path


COMPOSE_SECRETS = ("mcp-token", "postgres-password", "valkey-password", "nats-password")  # compose.yaml's


def compose_secrets(folder: Path) -> list[Path]:
    """The files compose.yaml mounts as secrets, each made with a random value unless it exists; the
    ones made now. The folder is 0700; the files 0644, because compose (outside a swarm) mounts a
    file secret with its host mode and the containers read it as their own users (nobody, ...)."""
    made = [folder / name for name in COMPOSE_SECRETS if not (folder / name).exists()]
    for name in COMPOSE_SECRETS:
        ensure_secret(folder / name).chmod(0o644)
    folder.chmod(0o700)
    return made


def read_secret(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip()


def secret_if_any(path: Path) -> str | None:
    """The secret in ``path``, or None when there is none (a stack started before it had one)."""
    try:
        return read_secret(path) or None
    except FileNotFoundError:
        return None
