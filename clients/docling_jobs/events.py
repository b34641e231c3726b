"""What the client reads from the API: job events and the job states that end a job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JOB_EVENT_TYPES = frozenset(
    {
        "JobSubmitted",
        "UploadStored",
        "UploadRejected",
        "ConversionStarted",
        "ConversionProgressed",
        "ConversionDeferred",
        "ConversionSucceeded",
        "ConversionFailed",
        "JobCancelRequested",
        "JobCancelled",
    }
)
TERMINAL_EVENTS = frozenset({"ConversionSucceeded", "ConversionFailed", "UploadRejected", "JobCancelled"})
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "rejected", "cancelled"})


@dataclass(frozen=True)
class JobEvent:
    """One event of a job: its SSE id (strictly increasing per job), type and envelope."""

    id: int
    type: str
    envelope: dict[str, Any]

    @property
    def data(self) -> dict[str, Any]:
        data = self.envelope.get("data")
        return data if isinstance(data, dict) else {}

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL_EVENTS


def is_over(job: dict[str, Any]) -> bool:
    """Whether a job state (``GET /api/v1/jobs/{id}``) is final."""
    return job.get("status") in TERMINAL_STATUSES
