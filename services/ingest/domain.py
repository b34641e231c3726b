"""Pure rules of ingest: where an upload lives, and whether what arrived is what was sent."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from contracts.formats import extension_of


def content_path(sha256: str, filename: str) -> PurePosixPath:
    """``ab/abcdef….docx``: content-addressed, the extension kept so docling can tell the format."""
    return PurePosixPath(sha256[:2]) / f"{sha256}{extension_of(filename)}"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


def verify(sha256: str, size_bytes: int, announced_sha256: str, announced_size: int) -> Verdict:
    """Whether what arrived (its hash and size, taken as it was written) is what was announced."""
    if size_bytes != announced_size:
        return Verdict(False, f"size {size_bytes} differs from the announced {announced_size}")
    if sha256 != announced_sha256:
        return Verdict(False, "content hash differs from the announced sha256")
    return Verdict(True)
