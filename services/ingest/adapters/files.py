"""The upload store on local disk: atomic, content-addressed, readable by the MCP server."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from contextlib import suppress
from pathlib import Path, PurePosixPath


class UploadStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def put(self, relative: PurePosixPath, data: bytes) -> Path:
        """Write once: an existing file with this name already holds these exact bytes."""
        target = self.root / relative
        if target.exists():
            os.utime(target)  # stored again: retention counts from now
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

    def purge(self, older_than_s: float) -> int:
        """Retention: remove stored files (and abandoned temporary ones) last stored more than
        ``older_than_s`` ago; then the directories left empty. Returns the files removed."""
        cutoff, removed = time.time() - older_than_s, 0
        for path in sorted(self.root.rglob("*"), reverse=True):  # a directory after its contents
            with suppress(FileNotFoundError, OSError):
                if path.is_dir():
                    if path != self.root and not any(path.iterdir()):
                        path.rmdir()
                elif path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
        return removed

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
