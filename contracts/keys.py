"""Redis key patterns: the one place they are spelled (CLAUDE.md lists each)."""

SSE_BUFFER_TTL_S = 300


def sse_events(job_id: str) -> str:
    """Sorted set of a job's recent events, scored by event id (its stream sequence)."""
    return f"sse:events:{job_id}"


def sse_live(job_id: str) -> str:
    """Pub/sub channel (not a key) announcing each newly projected event of a job."""
    return f"sse:live:{job_id}"
