"""The backup folder on disk: ``sets/<id>/`` (manifest and database parts), ``files/`` (the upload
pool, content-addressed, shared by every set), ``wal/`` (PostgreSQL's WAL archive)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from services.backup.domain import Manifest, Measured, Part, content_sha

MANIFEST = "manifest.json"
CHUNK = 1 << 20


class BackupDir:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.sets = self.root / "sets"
        self.pool = self.root / "files"
        self.wal = self.root / "wal"

    def new_set(self, set_id: str) -> Path:
        folder = self.sets / set_id
        folder.mkdir(parents=True, mode=0o700)
        return folder

    def set_folder(self, name: str) -> Path:
        """A set by id or path."""
        folder = Path(name) if "/" in name else self.sets / name
        if not (folder / MANIFEST).is_file():
            raise FileNotFoundError(f"no backup set at {folder} (no {MANIFEST})")
        return folder

    def manifests(self) -> list[Manifest]:
        found = sorted(self.sets.glob(f"*/{MANIFEST}")) if self.sets.is_dir() else []
        return [read_manifest(path.parent) for path in found]

    def newest(self) -> Path:
        complete = [m for m in self.manifests() if m.complete]
        if not complete:
            raise FileNotFoundError(f"no complete backup set under {self.sets}")
        return self.sets / max(complete, key=lambda m: m.created_at).set_id

    def pool_names(self) -> set[str]:
        if not self.pool.is_dir():
            return set()
        return {str(p.relative_to(self.pool)) for p in self.pool.rglob("*") if p.is_file()}

    def add_to_pool(self, source: Path, relative: str) -> Part:
        """Copy an upload into the pool (atomically, fsynced); refuse one whose content is not
        what its name says."""
        target = self.pool / relative
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        digest = hashlib.sha256()
        try:
            with source.open("rb") as src, os.fdopen(fd, "wb") as out:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != content_sha(relative):
                raise ValueError(f"upload {relative} does not hold what its name says")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return Part(name=f"files/{relative}", size=target.stat().st_size, sha256=digest.hexdigest())

    def locate(self, set_folder: Path, name: str) -> Path:
        return self.root / name if name.startswith("files/") else set_folder / name


def measure(path: Path) -> Measured | None:
    try:
        digest = hashlib.sha256()
        with path.open("rb") as src:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
    except FileNotFoundError:
        return None
    return Measured(path.stat().st_size, digest.hexdigest())


def part_of(folder: Path, name: str) -> Part:
    found = measure(folder / name)
    assert found is not None, f"{name} was just written"
    return Part(name=name, size=found.size, sha256=found.sha256)


def write_manifest(folder: Path, manifest: Manifest) -> None:
    tmp = folder / f".{MANIFEST}.tmp"
    tmp.write_text(manifest.model_dump_json(indent=2) + "\n")
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    tmp.replace(folder / MANIFEST)


def read_manifest(folder: Path) -> Manifest:
    return Manifest.model_validate_json((folder / MANIFEST).read_text())


def uploads(upload_dir: Path) -> dict[str, Path]:
    """The content-addressed upload files (relative name -> path); temporary files left out."""
    if not upload_dir.is_dir():
        return {}
    found = {}
    for path in upload_dir.rglob("*"):
        relative = str(path.relative_to(upload_dir))
        if path.is_file() and content_sha(relative) is not None:
            found[relative] = path
    return found


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
