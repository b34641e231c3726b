import pytest

from services.converter.domain import (
    STAGE_PROGRESS,
    BadResult,
    ProtocolError,
    TimedOut,
    ToolFailed,
    Unreachable,
    failure_of,
)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ToolFailed("x"), "E205"),
        (ProtocolError(-32602, "x"), "E203"),
        (ProtocolError(-32001, "x"), "E205"),
        (Unreachable("x"), "E206"),
        (TimedOut("x"), "E207"),
        (BadResult("x"), "E208"),
    ],
)
def test_each_failure_has_its_code_message_and_recovery(error, code) -> None:
    failure = failure_of(error)
    assert failure.code == code and failure.message and failure.recovery


def test_stage_progress_strictly_increases_below_100() -> None:
    values = list(STAGE_PROGRESS.values())
    assert values == sorted(set(values)) and values[-1] < 100


@pytest.mark.parametrize(
    ("error", "trips"),
    [
        (ToolFailed("x"), False),
        (BadResult("x"), False),
        (Unreachable("x"), True),
        (TimedOut("x"), True),
        (ProtocolError(-32602, "x"), False),
        (ProtocolError(-32603, "x"), True),
        (ProtocolError(-32001, "x"), True),
    ],
)
def test_only_a_sick_server_trips_the_circuit(error, trips) -> None:
    assert error.trips is trips
