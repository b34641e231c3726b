"""Pure rules of the edge: how SSE resumption is read. (Uploads: ``uploads``; limits: ``ratelimits``.)"""

from __future__ import annotations

MAX_EVENT_ID = 2**31 - 1  # event numbers are PostgreSQL integers (event_archive.job_seq)


def parse_last_event_id(raw: str | None) -> int | None:
    """``Last-Event-ID`` (or ``after``) is the number of the last event seen: 0 to ``MAX_EVENT_ID``.

    None for anything else (the caller answers 400 E100).
    """
    if raw is None or raw.strip() == "":
        return 0
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_EVENT_ID)) or int(raw) > MAX_EVENT_ID:
        return None
    return int(raw)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether ``Accept-Encoding`` allows gzip (RFC 9110: listed, or ``*``, with a q above 0)."""
    for part in (accept_encoding or "").lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "x-gzip", "*"):
            q = params.strip().removeprefix("q=")
            try:
                return not params.strip() or float(q) > 0
            except ValueError:
                return False
    return False
