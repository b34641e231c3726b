"""The job projection: ``apply(state, event, seq) -> state``, pure and order-tolerant."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from contracts import errors
from contracts.envelope import Event
from contracts.events import (
    ConversionDeferred,
    ConversionFailed,
    ConversionProgressed,
    ConversionStarted,
    ConversionSucceeded,
    JobCancelled,
    JobSubmitted,
    UploadRejected,
    UploadStored,
)
from contracts.statuses import STATUS_RANK, TERMINAL_STATUSES, Status


@dataclass(frozen=True)
class JobState:
    job_id: str
    status: Status = "submitted"
    stage: str = "queued"
    progress: int = 0
    filename: str | None = None
    content_type: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    owner: str = ""  # sha256 of the submitting session's id ("" for jobs from before sessions)
    error_code: str | None = None
    error_message: str | None = None
    error_recovery: str | None = None
    formats: tuple[str, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None
    last_seq: int = 0  # stream sequence of the newest event folded in
    events: int = 0  # how many events the job has: the number of the newest one

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


def _advance(state: JobState, status: Status, stage: str, progress: int) -> JobState:
    if state.terminal or STATUS_RANK[status] < STATUS_RANK[state.status]:
        return state
    if progress < state.progress:
        return replace(state, status=status)
    return replace(state, status=status, stage=stage, progress=progress)


def _fields(state: JobState, event: Event) -> JobState:
    """What each event teaches, before status arithmetic."""
    match event:
        case JobSubmitted():
            return replace(
                state,
                filename=event.filename,
                content_type=event.content_type,
                size_bytes=event.size_bytes,
                sha256=event.sha256,
                owner=event.owner,
                created_at=event.occurred_at,
            )
        case UploadStored():
            return _advance(state, "stored", "stored", 10)
        case ConversionStarted():
            return _advance(state, "converting", "converting", 15)
        case ConversionProgressed():
            return _advance(state, "converting", event.stage, event.progress)
        case ConversionDeferred():  # waiting for the MCP server; the next progress resumes "converting"
            return _advance(state, "deferred", state.stage, state.progress)
        case ConversionSucceeded():
            return _end(state, "succeeded", "done", 100, formats=tuple(event.formats))
        case ConversionFailed():
            return _end(
                state,
                "failed",
                event.stage,
                state.progress,
                error_code=event.code,
                error_message=event.message,
                error_recovery=event.recovery,
            )
        case UploadRejected():
            return _end(
                state,
                "rejected",
                "queued",
                state.progress,
                error_code=event.code,
                error_message=event.message,
                error_recovery=_recovery(event.code),  # the event carries none: the code's own
            )
        case JobCancelled():
            return _end(state, "cancelled", state.stage, state.progress)
    return state


def _end(state: JobState, status: Status, stage: str, progress: int, **facts: Any) -> JobState:
    if state.terminal:
        return state
    return replace(state, status=status, stage=stage, progress=progress, **facts)


def apply(state: JobState | None, event: Event, seq: int) -> JobState:
    """Fold one event in. Order-tolerant: the outcome does not depend on arrival order."""
    state = state or JobState(job_id=event.job_id)
    state = _fields(state, event)
    newest = max(filter(None, (state.updated_at, event.occurred_at)))
    return replace(state, last_seq=max(state.last_seq, seq), updated_at=newest)


def number(state: JobState, seq: int) -> tuple[JobState, int]:
    """Give the job's next event its number (the SSE id): 1, 2, 3, ... without gaps."""
    return replace(state, events=state.events + 1), state.events + 1


def needs_lookup(last_seq: int, seq: int, ack_floor: int, delivered: frozenset[int]) -> bool:
    """Could an event of this job lie between ``last_seq`` and ``seq`` unprojected?

    Not when every stream sequence in between is either acknowledged already (at or below the
    consumer's ack floor, hence projected) or part of the batch being projected.
    """
    start = max(last_seq, ack_floor) + 1
    if seq - start > len(delivered):
        return True
    return any(s not in delivered for s in range(start, seq))


def _recovery(code: str) -> str | None:
    known = errors.CODES.get(code)
    return known.recovery if known else None
