import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from contracts import schema_files
from contracts.envelope import Envelope, derived_event_id
from contracts.events import EVENT_TYPES, TERMINAL_EVENT_TYPES, ConversionProgressed, JobSubmitted, decode
from contracts.sse import SseEntry

SHA = "a" * 64


def submitted() -> JobSubmitted:
    return JobSubmitted(
        job_id="j1",
        source="api",
        filename="a.docx",
        content_type="x",
        size_bytes=3,
        sha256=SHA,
        staging_object="j1",
        owner="",
    )


def test_envelope_round_trips_every_field() -> None:
    event = submitted()
    back = decode(Envelope.from_bytes(Envelope.wrap(event).to_bytes()))
    assert back == event


def test_envelope_names_type_and_version() -> None:
    wire = json.loads(Envelope.wrap(submitted()).to_bytes())
    assert wire["event_type"] == "JobSubmitted" and wire["schema_version"] == 3
    assert wire["data"]["sha256"] == SHA and "event_id" not in wire["data"]


def test_decode_refuses_an_unknown_schema_version() -> None:
    wire = Envelope.wrap(submitted()).model_copy(update={"schema_version": 99})
    with pytest.raises(ValueError, match="v99"):
        decode(wire)


def test_events_refuse_bad_values() -> None:
    with pytest.raises(ValidationError):
        ConversionProgressed(job_id="j", source="c", stage="converting", progress=101)
    with pytest.raises(ValidationError):
        JobSubmitted(
            job_id="j",
            source="a",
            filename="f",
            content_type="x",
            size_bytes=1,
            sha256="not-a-hash",
            staging_object="j",
            owner="",
        )


def test_derived_ids_are_stable_and_distinct() -> None:
    assert derived_event_id("e1", "UploadStored") == derived_event_id("e1", "UploadStored")
    assert derived_event_id("e1", "UploadStored") != derived_event_id("e2", "UploadStored")
    assert derived_event_id("e1", "UploadStored") != derived_event_id("e1", "UploadRejected")


def test_terminal_events_are_exactly_the_outcomes() -> None:
    assert TERMINAL_EVENT_TYPES == {
        "ConversionSucceeded",
        "ConversionFailed",
        "UploadRejected",
        "JobCancelled",
    }


def test_sse_entry_round_trip() -> None:
    entry = SseEntry.of(Envelope.wrap(submitted()), 42)
    assert SseEntry.from_json(entry.to_json()) == entry and not entry.terminal


@pytest.mark.parametrize("path", sorted(schema_files.current_schemas()), ids=lambda p: p.name)
def test_committed_schema_matches_the_code(path) -> None:
    """Changing an event's shape needs a schema_version bump and a new golden file."""
    assert path.exists(), f"{path.name} is not committed: run python -m contracts.schema_files"
    current = schema_files.render(schema_files.current_schemas()[path])
    assert path.read_text() == current, (
        f"{path.name} no longer matches the event: bump schema_version and regenerate"
    )


def test_every_event_type_has_a_golden_file() -> None:
    names = {p.name for p in schema_files.SCHEMA_DIR.glob("*.json")}
    for name, cls in EVENT_TYPES.items():
        assert f"{name}.v{cls.schema_version}.json" in names


def test_occurred_at_is_timezone_aware() -> None:
    assert submitted().occurred_at.tzinfo is not None
    assert submitted().occurred_at <= datetime.now(UTC)


def test_terminal_events_share_the_outcome_subject() -> None:
    from contracts.subjects import event_subject, outcome_subject

    assert (
        event_subject("j1", "ConversionSucceeded", terminal=True)
        == outcome_subject("j1")
        == "jobs.j1.outcome"
    )
    assert event_subject("j1", "UploadStored") == "jobs.j1.UploadStored"


def test_sse_entry_json_is_canonical() -> None:
    a = SseEntry(1, "JobSubmitted", {"b": 1, "a": {"y": 2, "x": 1}})
    b = SseEntry(1, "JobSubmitted", {"a": {"x": 1, "y": 2}, "b": 1})
    assert a.to_json() == b.to_json()


def test_a_v1_job_submitted_still_decodes_without_an_owner() -> None:
    """Events written before sessions existed stay readable (upcast v1 -> v2)."""
    v1 = Envelope(
        event_id="e1",
        job_id="j1",
        event_type="JobSubmitted",
        schema_version=1,
        occurred_at=datetime.now(UTC),
        source="api",
        data={
            "filename": "a.md",
            "content_type": "text/markdown",
            "size_bytes": 1,
            "sha256": SHA,
            "staging_object": "j1",
        },
    )
    assert decode(v1).owner == ""


def test_job_submitted_refuses_an_owner_that_is_not_a_hash() -> None:
    with pytest.raises(ValidationError):
        JobSubmitted(
            job_id="j",
            source="a",
            filename="f",
            content_type="x",
            size_bytes=1,
            sha256=SHA,
            staging_object="j",
            owner="a-raw-session-id",
        )
