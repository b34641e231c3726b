"""The event envelope: the outer shape every event on the bus shares."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

_DERIVED = uuid.UUID("6f1c1d3e-9a57-4d0e-8f55-0d0c11a9b0b5")


def new_event_id() -> str:
    return str(uuid.uuid4())


def derived_event_id(cause_event_id: str, what: str) -> str:
    """A stable id for the event that ``cause_event_id`` leads to.

    Handling the same cause twice (a redelivery) yields the same id, so JetStream's
    ``Nats-Msg-Id`` deduplication drops the second publication.
    """
    return str(uuid.uuid5(_DERIVED, f"{cause_event_id}:{what}"))


def utc_now() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    """Base of every event: a fact in the past tense about one job.

    ``event_id`` doubles as the JetStream ``Nats-Msg-Id``, so publishing the same event twice
    stores it once. ``schema_version`` changes whenever the shape of an event type changes.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    terminal: ClassVar[bool] = False

    event_id: str = Field(default_factory=new_event_id)
    job_id: str
    occurred_at: datetime = Field(default_factory=utc_now)
    source: str


class Envelope(BaseModel):
    """What travels on the wire: metadata plus the event's own fields under ``data``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str
    job_id: str
    event_type: str
    schema_version: int
    occurred_at: datetime
    source: str
    data: dict

    @classmethod
    def wrap(cls, event: Event) -> Envelope:
        meta = {"event_id", "job_id", "occurred_at", "source"}
        return cls(
            event_id=event.event_id,
            job_id=event.job_id,
            event_type=event.event_type,
            schema_version=event.schema_version,
            occurred_at=event.occurred_at,
            source=event.source,
            data=event.model_dump(mode="json", exclude=meta),
        )

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)
