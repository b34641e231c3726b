from datetime import UTC, datetime, timedelta

import pytest

from contracts.events import (
    ConversionFailed,
    ConversionProgressed,
    ConversionStarted,
    ConversionSucceeded,
    JobSubmitted,
    UploadStored,
)
from services.progress.domain import apply

T0 = datetime(2026, 1, 1, tzinfo=UTC)
JOB = dict(job_id="j1")


def at(seconds: int) -> dict:
    return {**JOB, "occurred_at": T0 + timedelta(seconds=seconds)}


EVENTS = [
    (
        1,
        JobSubmitted(
            **at(0),
            source="api",
            filename="a.docx",
            content_type="x",
            size_bytes=5,
            sha256="b" * 64,
            staging_object="j1",
            owner="c" * 64,
        ),
    ),
    (
        2,
        UploadStored(
            **at(1), source="ingest", sha256="b" * 64, size_bytes=5, path="/u/x.docx", filename="a.docx"
        ),
    ),
    (3, ConversionStarted(**at(2), source="converter", mcp_server="http://m")),
    (4, ConversionProgressed(**at(3), source="converter", stage="converting", progress=60)),
    (
        5,
        ConversionSucceeded(
            **at(4),
            source="converter",
            formats=["markdown"],
            result_sha256={"markdown": "c" * 64},
            duration_ms=10,
        ),
    ),
]


def fold(pairs):
    state = None
    for seq, event in pairs:
        state = apply(state, event, seq)
    return state


def test_a_job_folds_to_succeeded() -> None:
    state = fold(EVENTS)
    assert (state.status, state.stage, state.progress) == ("succeeded", "done", 100)
    assert state.filename == "a.docx" and state.last_seq == 5 and state.formats == ("markdown",)
    assert state.created_at == T0 and state.updated_at == T0 + timedelta(seconds=4)


def test_order_does_not_change_the_outcome() -> None:
    assert fold(reversed(EVENTS)) == fold(EVENTS)


def test_replaying_an_event_changes_nothing() -> None:
    state = fold(EVENTS)
    assert fold([*EVENTS, EVENTS[3], EVENTS[1]]) == state


def test_progress_never_decreases() -> None:
    late_low = ConversionProgressed(**at(5), source="converter", stage="converting", progress=20)
    state = fold([EVENTS[0], EVENTS[3], (6, late_low)])
    assert state.progress == 60


def test_a_terminal_state_is_final() -> None:
    failed = ConversionFailed(
        **at(9), source="converter", code="E205", message="m", recovery="r", stage="converting"
    )
    state = fold([*EVENTS, (6, failed)])
    assert state.status == "succeeded" and state.error_code is None


def test_failure_keeps_code_message_and_recovery() -> None:
    failed = ConversionFailed(
        **at(3),
        source="converter",
        code="E205",
        message="Document processing failed",
        recovery="Retry with different document",
        stage="converting",
    )
    state = fold([*EVENTS[:3], (4, failed)])
    assert (state.status, state.error_code, state.error_recovery) == (
        "failed",
        "E205",
        "Retry with different document",
    )


def test_a_rejection_gets_its_codes_recovery_action() -> None:
    from contracts import errors
    from contracts.events import UploadRejected

    rejected = UploadRejected(**at(1), source="ingest", code="E501", message=errors.get("E501").message)
    state = fold([EVENTS[0], (2, rejected)])
    assert (state.status, state.error_code) == ("rejected", "E501")
    assert state.error_recovery == errors.get("E501").recovery and state.error_recovery


def test_cancellation_is_terminal() -> None:
    from contracts.events import JobCancelled

    cancelled = JobCancelled(**at(3), source="converter", requested_by="e1")
    state = fold([*EVENTS[:3], (4, cancelled), EVENTS[4]])
    assert state.status == "cancelled" and state.formats == ()


def test_numbers_are_contiguous() -> None:
    from services.progress.domain import JobState, number

    state, numbers = JobState(job_id="j1"), []
    for seq in (10, 25, 26, 90):
        state, n = number(state, seq)
        numbers.append(n)
    assert numbers == [1, 2, 3, 4] and state.events == 4


@pytest.mark.parametrize(
    ("last_seq", "seq", "floor", "delivered", "expected"),
    [
        (0, 5, 4, frozenset({5}), False),  # everything before is acknowledged
        (0, 5, 2, frozenset({3, 4, 5}), False),  # the rest is in this batch
        (0, 5, 2, frozenset({3, 5}), True),  # 4 is with another copy: it may be ours
        (3, 5, 0, frozenset({4, 5}), False),  # after our own last event, all in the batch
        (0, 10_000, 0, frozenset({10_000}), True),  # a long unknown stretch
    ],
)
def test_needs_lookup(last_seq, seq, floor, delivered, expected) -> None:
    from services.progress.domain import needs_lookup

    assert needs_lookup(last_seq, seq, floor, delivered) is expected
