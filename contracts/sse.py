"""The shape of one event in the SSE buffer and on the wire to clients."""

from __future__ import annotations

import json
from dataclasses import dataclass

from contracts.envelope import Envelope
from contracts.events import TERMINAL_EVENT_TYPES


@dataclass(frozen=True)
class SseEntry:
    id: int  # the event's JetStream stream sequence: strictly increasing per job
    event: str  # the event type
    data: dict  # the whole envelope

    @property
    def terminal(self) -> bool:
        return self.event in TERMINAL_EVENT_TYPES

    def to_json(self) -> str:
        """Canonical JSON (sorted keys), the same whether built from the bus or the archive."""
        return json.dumps(
            {"id": self.id, "event": self.event, "data": self.data}, separators=(",", ":"), sort_keys=True
        )

    @classmethod
    def of(cls, envelope: Envelope, seq: int) -> SseEntry:
        return cls(seq, envelope.event_type, envelope.model_dump(mode="json"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> SseEntry:
        value = json.loads(raw)
        return cls(int(value["id"]), value["event"], value["data"])
