"""What the API returns: job views with their links."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from contracts.formats import STORED_FORMATS
from contracts.sse import SseEntry
from contracts.statuses import Status
from services.api.public import public_envelope

PREFIX = "/api/v1/jobs"


class JobError(BaseModel):
    code: str
    message: str | None
    recovery: str | None


class JobLinks(BaseModel):
    self: str
    events: str
    result: dict[str, str]


class JobView(BaseModel):
    job_id: str
    status: Status
    stage: str
    progress: int
    filename: str | None = None
    size_bytes: int | None = None
    formats: list[str] = []
    error: JobError | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    last_event_id: int = 0  # the number of the job's newest event (SSE ids are 1, 2, 3, ...)
    links: JobLinks


class EventItem(BaseModel):
    id: int
    event: str
    data: dict  # the event's public envelope (services/api/public.py), never the internal one

    @classmethod
    def of(cls, entry: SseEntry) -> EventItem:
        return cls(id=entry.id, event=entry.event, data=public_envelope(entry.event, entry.data))


class EventPage(BaseModel):
    """The polling form of the event stream: the same ids as SSE."""

    events: list[EventItem]
    job: JobView


def links(job_id: str, formats: list[str] | None = None) -> JobLinks:
    """The job's routes; ``result`` names the formats it produced once it has (all three before)."""
    base = f"{PREFIX}/{job_id}"
    return JobLinks(
        self=base,
        events=f"{base}/events",
        result={f: f"{base}/result?format={f}" for f in (formats or STORED_FORMATS)},
    )


def from_row(row: dict) -> JobView:
    error = None
    if row["error_code"]:
        error = JobError(code=row["error_code"], message=row["error_message"], recovery=row["error_recovery"])
    job_id = str(row["job_id"])
    return JobView(
        job_id=job_id,
        status=row["status"],
        stage=row["stage"],
        progress=row["progress"],
        filename=row["filename"],
        size_bytes=row["size_bytes"],
        formats=list(row["formats"]),
        error=error,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_event_id=row["events"],
        links=links(job_id, list(row["formats"])),
    )


def submitted(
    job_id: str, filename: str | None = None, size_bytes: int | None = None, at: datetime | None = None
) -> JobView:
    """A job whose submission is in the log but not yet in the projection (``at``: when it was)."""
    return JobView(
        created_at=at,
        updated_at=at,
        job_id=job_id,
        status="submitted",
        stage="queued",
        progress=0,
        filename=filename,
        size_bytes=size_bytes,
        links=links(job_id),
    )


class JobList(BaseModel):
    """One page of the session's jobs, newest first; ``next`` is the next page's address or null."""

    jobs: list[JobView]
    limit: int
    offset: int
    next: str | None


class SessionView(BaseModel):
    session_id: str  # also the bearer token; browsers get it as an HttpOnly cookie too
    created_at: datetime
    expires_at: datetime
