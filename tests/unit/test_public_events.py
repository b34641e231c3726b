"""Every event type, shown the way a client sees it, carries nothing internal.

Each sample fills every internal field with a recognisable value (a server path, a URL, an owner
hash, an object name); the test fails if one of them appears in the SSE message or in the JSON
polling form, or if an event type has no sample (a new event type must be checked here).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from contracts.envelope import Envelope, Event
from contracts.events import (
    EVENT_TYPES,
    ConversionDeferred,
    ConversionFailed,
    ConversionProgressed,
    ConversionStarted,
    ConversionSucceeded,
    JobCancelled,
    JobCancelRequested,
    JobSubmitted,
    UploadRejected,
    UploadStored,
)
from contracts.sse import SseEntry
from services.api.public import PUBLIC_FIELDS
from services.api.streams import JobStream
from services.api.views import EventItem

JOB = "3f6c2a1e-0000-4000-8000-000000000001"
SHA = "b" * 64
OWNER = "0123456789abcdef" * 4
UPLOAD_PATH = "/var/lib/docling-jobs/uploads/bb/bbbb.docx"
MCP_URL = "http://mcp.internal:8000/mcp"
OBJECT = "staging-object-7f3e9c"
INTERNALS = (OWNER, UPLOAD_PATH, MCP_URL, OBJECT, "/var/lib", "://")
IDS = {"job_id": JOB}

SAMPLES: dict[str, Event] = {
    e.event_type: e
    for e in (
        JobSubmitted(
            **IDS,
            source="api",
            filename="report.docx",
            content_type="application/msword",
            size_bytes=5,
            sha256=SHA,
            staging_object=OBJECT,
            owner=OWNER,
        ),
        JobCancelRequested(**IDS, source="api"),
        UploadStored(**IDS, source="ingest", sha256=SHA, size_bytes=5, path=UPLOAD_PATH, filename="r.docx"),
        UploadRejected(**IDS, source="ingest", code="E107", message="The upload could not be read back."),
        ConversionStarted(**IDS, source="converter", mcp_server=MCP_URL),
        ConversionProgressed(**IDS, source="converter", stage="converting", progress=40),
        ConversionDeferred(
            **IDS,
            source="converter",
            code="E206",
            message="The conversion service could not be reached.",
            reason="circuit_open",
            retry_at=datetime(2026, 1, 1, tzinfo=UTC),
            stage="stored",
        ),
        ConversionSucceeded(
            **IDS, source="converter", formats=["markdown"], result_sha256={"markdown": SHA}, duration_ms=9
        ),
        ConversionFailed(
            **IDS, source="converter", code="E205", message="failed", recovery="retry", stage="converting"
        ),
        JobCancelled(**IDS, source="converter", requested_by="e1"),
    )
}


def internal_entry(event: Event) -> SseEntry:
    return SseEntry.of(Envelope.wrap(event), seq=4)


def shown_on_sse(entry: SseEntry) -> str:
    stream = JobStream(JOB, 3, None, None, 15.0, 1000, {})  # type: ignore[arg-type]
    return stream._message(entry).data or ""


def shown_when_polled(entry: SseEntry) -> str:
    return EventItem.of(entry).model_dump_json()


def test_every_event_type_has_a_sample_and_a_public_view() -> None:
    assert set(SAMPLES) == set(EVENT_TYPES)
    assert set(PUBLIC_FIELDS) == set(EVENT_TYPES)


@pytest.mark.parametrize("show", [shown_on_sse, shown_when_polled], ids=["sse", "polling"])
@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_no_internal_value_reaches_a_client(event_type: str, show) -> None:
    entry = internal_entry(SAMPLES[event_type])
    shown = show(entry)
    leaked = [value for value in INTERNALS if value in shown]
    assert not leaked, f"{event_type} shows {leaked}: {shown}"


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_public_facts_are_kept(event_type: str) -> None:
    entry = internal_entry(SAMPLES[event_type])
    shown = json.loads(shown_on_sse(entry))
    assert shown["event_type"] == event_type and shown["job_id"] == JOB
    assert set(shown["data"]) == set(PUBLIC_FIELDS[event_type])
    assert all(shown["data"][name] == entry.data["data"][name] for name in shown["data"])


def test_an_unknown_event_type_shows_no_data() -> None:
    entry = SseEntry(5, "SomethingNew", {"event_type": "SomethingNew", "data": {"path": UPLOAD_PATH}})
    assert json.loads(shown_on_sse(entry))["data"] == {}
