"""Files that hold a secret: written mode 0600 from the start (never world-readable for a moment),
optionally for another user (PostgreSQL's ``nobody``). Stdlib only: the launcher uses it too."""

from __future__ import annotations

import os
import pwd
from pathlib import Path


def write_private(path: Path, text: str, owner: str | None = None) -> Path:
    """Replace ``path`` with ``text``, mode 0600, owned by user ``owner`` when given (as root)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    if owner is not None:
        entry = pwd.getpwnam(owner)
        os.chown(tmp, entry.pw_uid, entry.pw_gid)
    tmp.replace(path)
    return path
