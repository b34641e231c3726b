"""Job events: one class per fact, grouped by the service that states it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from contracts.envelope import Envelope, Event
from contracts.formats import STORED_FORMATS
from contracts.formats import StoredFormat as Format

Stage = Literal[
    "queued",
    "stored",
    "converting",
    "exporting_markdown",
    "exporting_json",
    "exporting_html",
    "storing_results",
    "done",
]


# -- api ---------------------------------------------------------------------------------------
class JobSubmitted(Event):
    """A user handed in a document. The bytes wait in the staging object store.

    v2 adds ``owner``: the sha256 of the submitting session's id (never the id itself, a bearer
    secret), so ownership is durable in the log and the projection. v1 events read as owner "".
    v3 adds ``formats``: the stored formats the job produces (a docling-serve request asks for
    some; the project's own routes for all). Older events read as all of them.
    """

    event_type: ClassVar[str] = "JobSubmitted"
    schema_version: ClassVar[int] = 3
    filename: str
    content_type: str
    size_bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    staging_object: str
    owner: str = Field(pattern=r"^([0-9a-f]{64})?$")
    formats: list[Format] = Field(default_factory=lambda: list(STORED_FORMATS), min_length=1)


class JobCancelRequested(Event):
    """A user asked to stop the job. Whoever ends the job first wins; see ``JobCancelled``."""

    event_type: ClassVar[str] = "JobCancelRequested"


# -- ingest ------------------------------------------------------------------------------------
class UploadStored(Event):
    """The upload is stored, content-addressed, where the MCP server can read it.

    v2 adds ``formats`` (the job's, from ``JobSubmitted``); older events read as all of them.
    v3 adds ``owner`` (from ``JobSubmitted``): the converter shares conversions out per owner.
    Older events read as owner "" (no owner: not limited).
    """

    event_type: ClassVar[str] = "UploadStored"
    schema_version: ClassVar[int] = 3
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size_bytes: int = Field(ge=0)
    path: str
    filename: str
    formats: list[Format] = Field(default_factory=lambda: list(STORED_FORMATS), min_length=1)
    owner: str = Field("", pattern=r"^([0-9a-f]{64})?$")


class UploadRejected(Event):
    """The upload could not be accepted; the job ends here."""

    event_type: ClassVar[str] = "UploadRejected"
    terminal: ClassVar[bool] = True
    code: str
    message: str


# -- converter ---------------------------------------------------------------------------------
class ConversionStarted(Event):
    event_type: ClassVar[str] = "ConversionStarted"
    mcp_server: str


class ConversionProgressed(Event):
    """A stage finished; ``progress`` is the share of the job done, 0 to 100."""

    event_type: ClassVar[str] = "ConversionProgressed"
    stage: Stage
    progress: int = Field(ge=0, le=100)


class ConversionDeferred(Event):
    """The job cannot go on yet: it waits and will be tried again by itself (nobody resubmits it).

    One per waiting period of a job. ``reason``: the MCP server is failing (``server_failure``) or
    its circuit is open (``circuit_open``); v2 adds ``owner_busy`` (the owner's other conversions
    use its share: the job starts when one ends) and ``server_busy`` (every worker of the MCP
    server stayed busy: waiting there counts against nothing).
    """

    event_type: ClassVar[str] = "ConversionDeferred"
    schema_version: ClassVar[int] = 2
    code: str = Field(description="application code of what made the job wait")
    message: str
    reason: Literal["circuit_open", "server_failure", "owner_busy", "server_busy"]
    retry_at: datetime = Field(description="when the job (or the circuit's trial) is next tried")
    stage: Stage


class ConversionSucceeded(Event):
    event_type: ClassVar[str] = "ConversionSucceeded"
    terminal: ClassVar[bool] = True
    formats: list[Format]
    result_sha256: dict[str, str]
    duration_ms: int = Field(ge=0)


class ConversionFailed(Event):
    event_type: ClassVar[str] = "ConversionFailed"
    terminal: ClassVar[bool] = True
    code: str
    message: str
    recovery: str
    stage: Stage


class JobCancelled(Event):
    """The job stopped at a user's request before it had any other outcome."""

    event_type: ClassVar[str] = "JobCancelled"
    terminal: ClassVar[bool] = True
    requested_by: str = Field(description="event id of the JobCancelRequested")


EVENT_TYPES: dict[str, type[Event]] = {
    cls.event_type: cls
    for cls in (
        JobSubmitted,
        JobCancelRequested,
        UploadStored,
        UploadRejected,
        ConversionStarted,
        ConversionProgressed,
        ConversionDeferred,
        ConversionSucceeded,
        ConversionFailed,
        JobCancelled,
    )
}
TERMINAL_EVENT_TYPES = frozenset(name for name, cls in EVENT_TYPES.items() if cls.terminal)


# (event type, old version) -> the data of the next version: older events in the log stay readable
UPCASTS: dict[tuple[str, int], Callable[[dict], dict]] = {
    ("JobSubmitted", 1): lambda data: {**data, "owner": ""},  # jobs from before sessions: no owner
    ("JobSubmitted", 2): lambda data: {**data, "formats": list(STORED_FORMATS)},  # every format
    ("UploadStored", 1): lambda data: {**data, "formats": list(STORED_FORMATS)},
    ("UploadStored", 2): lambda data: {**data, "owner": ""},  # not shared out per owner
    ("ConversionDeferred", 1): lambda data: data,  # v2 only adds reasons
}


def decode(envelope: Envelope) -> Event:
    """Turn a wire envelope back into its typed event (older versions upcast first)."""
    cls = EVENT_TYPES[envelope.event_type]
    data, version = envelope.data, envelope.schema_version
    while version < cls.schema_version and (envelope.event_type, version) in UPCASTS:
        data, version = UPCASTS[(envelope.event_type, version)](data), version + 1
    if version != cls.schema_version:
        raise ValueError(
            f"{envelope.event_type} v{envelope.schema_version} is not understood "
            f"(this build reads v{cls.schema_version})"
        )
    return cls(
        event_id=envelope.event_id,
        job_id=envelope.job_id,
        occurred_at=envelope.occurred_at,
        source=envelope.source,
        **data,
    )
