"""The upload store on local disk: atomic, content-addressed, readable by the MCP server."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path, PurePosixPath


class UploadStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def put(self, relative: PurePosixPath, data: bytes) -> Path:
        """Write once: an existing file with this name already holds these exact bytes."""
        target = self.root / relative
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def holding(self, relative: PurePosixPath, sha256: str, size_bytes: int) -> Path | None:
        """The stored file with this name, when it holds exactly these bytes (read in chunks)."""
        target = self.root / relative
        try:
            if target.stat().st_size != size_bytes:
                return None
            with target.open("rb") as source:
                digest = hashlib.file_digest(source, "sha256").hexdigest()
        except FileNotFoundError:
            return None
        return target if digest == sha256 else None
