"""The CLI's remembered session, one per API address, as ``gh`` keeps its tokens: a per-user file
(``$DOCLING_JOBS_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/docling-jobs``, else
``~/.config/docling-jobs``; ``sessions.json``), mode 0600 in a folder of mode 0700."""

from __future__ import annotations

import json
import os
from pathlib import Path

CONFIG_ENV = "DOCLING_JOBS_CONFIG_DIR"
FILE_NAME = "sessions.json"


def store_path() -> Path:
    given = os.environ.get(CONFIG_ENV)
    if given:
        return Path(given) / FILE_NAME
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "docling-jobs" / FILE_NAME


class TokenStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or store_path()

    def get(self, api_url: str) -> str | None:
        token = self._read().get(api_url.rstrip("/"))
        return token if isinstance(token, str) and token else None

    def put(self, api_url: str, token: str) -> None:
        tokens = {**self._read(), api_url.rstrip("/"): token}
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(tokens, handle, indent=2)
        os.chmod(partial, 0o600)  # also when it existed with another mode
        os.replace(partial, self.path)

    def _read(self) -> dict[str, object]:
        try:
            body = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return body if isinstance(body, dict) else {}
