"""Pure rules of ingest: where an upload lives, and whether what arrived is what was sent."""

from __future__ import annotations

import hashlib
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


def verify(data: bytes, sha256: str, size_bytes: int) -> Verdict:
    if len(data) != size_bytes:
        return Verdict(False, f"size {len(data)} differs from the announced {size_bytes}")
    if hashlib.sha256(data).hexdigest() != sha256:
        return Verdict(False, "content hash differs from the announced sha256")
    return Verdict(True)
