"""Pure rules of the edge: what an acceptable upload is, and how SSE resumption is read."""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath, PureWindowsPath

from contracts import formats

MAX_FILENAME_CHARS = 255
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


def clean_filename(raw: str | None) -> str | None:
    """The base name a user meant, without directories or control characters; None if nothing is left."""
    if not raw:
        return None
    name = PureWindowsPath(PurePosixPath(raw).name).name
    name = _UNSAFE.sub("", unicodedata.normalize("NFC", name)).strip().lstrip(".")
    if not name or len(name) > MAX_FILENAME_CHARS:
        return None
    return name


def upload_problem(filename: str | None, size: int, limit: int) -> str | None:
    """The application code that refuses this upload, or None when it is acceptable."""
    if filename is None:
        return "E100"
    if not formats.is_supported(filename):
        return "E103"
    if size == 0:
        return "E102"
    if size > limit:
        return "E101"
    return None


MAX_EVENT_ID = 2**31 - 1  # event numbers are PostgreSQL integers (event_archive.job_seq)


def parse_last_event_id(raw: str | None) -> int | None:
    """``Last-Event-ID`` (or ``after``) is the number of the last event seen: 0 to ``MAX_EVENT_ID``.

    None for anything else (the caller answers 400 E100).
    """
    if raw is None or raw.strip() == "":
        return 0
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > len(str(MAX_EVENT_ID)) or int(raw) > MAX_EVENT_ID:
        return None
    return int(raw)
