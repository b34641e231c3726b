"""Redis key patterns: the one place they are spelled (CLAUDE.md lists each)."""

SSE_BUFFER_TTL_S = 300
SSE_HISTORY_TTL_S = 7 * 24 * 3600


def sse_events(job_id: str) -> str:
    """Sorted set of a job's recent events, scored by event id (its stream sequence)."""
    return f"sse:events:{job_id}"


def sse_live(job_id: str) -> str:
    """Pub/sub channel (not a key) announcing each newly projected event of a job."""
    return f"sse:live:{job_id}"


def sse_history(job_id: str) -> str:
    """Hash outliving the buffer: ``last`` (the job's last event number) and ``terminal`` (0/1).

    It tells "the buffer expired" (marker present, buffer gone: replay from the archive) apart
    from "no such job" (neither present) without asking PostgreSQL.
    """
    return f"sse:history:{job_id}"


CIRCUIT_MCP = "docling-mcp"  # the service name of the MCP server's circuit


def circuit(service: str) -> str:
    """JSON ``{"state": "CLOSED"|"OPEN"|"HALF_OPEN", "failures": [...], ...}`` shared by every
    converter copy; no TTL (the breaker manages it)."""
    return f"circuit:{service}"


def owner_active(owner: str) -> str:
    """Sorted set of the owner's conversions in progress (one lease per job id, scored by the
    Redis server's time in ms when the lease lapses unless renewed), shared by every converter
    copy; TTL: the newest lease's. Expired members are dropped before each count."""
    return f"fair:active:{owner}"


def owner_waits(job_id: str) -> str:
    """Integer: how many deliveries of the job's ``UploadStored`` waited for the owner's share
    (they use no delivery of the job's budget); TTL: ``CONVERTER_DEFER_LIMIT_S``."""
    return f"fair:waits:{job_id}"


SESSION_TTL_S = 24 * 3600


def session(session_id: str) -> str:
    """JSON ``{"session_id", "created_at", "expires_at"}`` of one API session; TTL 24 h from creation."""
    return f"session:{session_id}"


def ratelimit(subject: str, endpoint: str) -> str:
    """Sorted set, one member per accepted request scored by the Redis server's time (µs); TTL = the
    window. ``subject`` is a session id, or ``ip-<address>`` for session creation."""
    return f"ratelimit:{subject}:{endpoint}"
