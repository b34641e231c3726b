"""The upload store on local disk: atomic, content-addressed, readable by the MCP server."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path, PurePosixPath
from typing import BinaryIO


class IncomingFile:
    """Bytes on their way to ``target``: written to a temporary file, hashed and counted."""

    def __init__(self, file: BinaryIO, tmp: Path, target: Path) -> None:
        self.file, self.tmp, self.target = file, tmp, target
        self._digest, self.size = hashlib.sha256(), 0

    def write(self, data: bytes, /) -> int:
        self.file.write(data)
        self._digest.update(data)
        self.size += len(data)
        return len(data)

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def keep(self) -> Path:
        """Write once: an existing file with this name already holds these exact bytes."""
        if self.target.exists():
            os.utime(self.target)  # stored again: retention counts from now
            return self.target
        self.file.flush()
        os.fsync(self.file.fileno())
        os.chmod(self.tmp, 0o644)
        os.replace(self.tmp, self.target)
        return self.target


class UploadStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    @contextmanager
    def incoming(self, relative: PurePosixPath) -> Iterator[IncomingFile]:
        """A temporary file beside where ``relative`` goes, hashed as it is written; ``keep()``
        puts it in place atomically, anything else leaves no trace of it."""
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        incoming = IncomingFile(os.fdopen(fd, "wb"), Path(tmp), target)
        try:
            yield incoming
        finally:
            incoming.file.close()
            Path(tmp).unlink(missing_ok=True)  # kept: renamed already

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
