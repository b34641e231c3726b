"""Pure rules of conversion: the stages, their progress, and what each failure means."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from contracts import errors
from contracts.events import Stage
from contracts.formats import StoredFormat

# how the MCP server's progress notifications reach a job: (progress, total)
Progress = Callable[[float, float | None], Awaitable[None]]

# format -> the stage that exports it, in the order the converter runs them
EXPORT_STAGES: dict[StoredFormat, Stage] = {
    "markdown": "exporting_markdown",
    "json": "exporting_json",
    "html": "exporting_html",
}
# stage finished -> share of the job done once it has
STAGE_PROGRESS: dict[Stage, int] = {
    "converting": 60,
    "exporting_markdown": 75,
    "exporting_json": 85,
    "exporting_html": 95,
}


@dataclass(frozen=True)
class Patience:
    """How a job waits out a failing MCP server (see CLAUDE.md, "Circuit Breaker Pattern"); these
    defaults are the ones ``ConverterSettings`` starts from."""

    retry_delay_s: float = 5.0  # wait before trying again while the circuit is closed
    max_attempts: int = 10  # failed attempts (while closed) before the job fails
    defer_limit_s: float = 3600.0  # longest a job waits in all before it fails
    poll_s: float = 1.0  # how often a waiting job looks at the circuit again


# what the project's MCP server says in a progress notification while a call waits for a worker
# (services/mcp_server/domain.py, progress_point("queued"); a unit test holds the two together)
QUEUED_MESSAGE = "waiting for a worker"
QUEUE_TIMEOUT_S = 900.0  # longest a call may wait for a worker before the job waits (E211) instead
OWNER_WAIT_S = 2.0  # how long a job whose owner's share is in use waits before it looks again
PROGRESS_INTERVAL_S = 0.5  # least time between two progress events from server notifications
CONVERSION_SPAN = (15, 55)  # progress shown while the server converts: after start, before done
PROGRESS_STEP = 5  # publish server progress in steps of at least this much


def converting_progress(value: float, total: float | None) -> int | None:
    """Job progress for a server notification during conversion (percent if no total), in steps."""
    share = value / total if total else value / 100
    if not 0 <= share <= 1:
        return None
    low, high = CONVERSION_SPAN
    return low + int(share * (high - low)) // PROGRESS_STEP * PROGRESS_STEP


class ConversionError(Exception):
    """A conversion that cannot finish; ``code`` is the application error code and ``trips`` says
    whether the failure signals a sick server (it counts toward the circuit breaker and the job is
    retried) or concerns only this job (it fails the job)."""

    kind = "tool"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail
        failure = errors.MCP_FAILURES[self.kind]
        self.code, self.trips = failure.code, failure.trips


class ToolFailed(ConversionError):
    """The server ran the tool and it failed: the document itself is the problem (E205, or the
    document-limit code the server named: E209 too large, E210 too complex)."""

    kind = "tool"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.code = errors.code_in_tool_error(detail) or self.code


class ProtocolError(ConversionError):
    """A JSON-RPC error answered the call."""

    def __init__(self, jsonrpc_code: int, detail: str) -> None:
        super().__init__(detail)
        self.jsonrpc_code = jsonrpc_code
        self.code = errors.from_jsonrpc(jsonrpc_code).code
        self.trips = errors.jsonrpc_trips(jsonrpc_code)


class Unreachable(ConversionError):
    kind = "transport"


class TimedOut(ConversionError):
    kind = "timeout"


class ServerBusy(ConversionError):
    """The call waited for a worker of the MCP server longer than ``CONVERTER_MCP_QUEUE_TIMEOUT_S``:
    the server is busy, not sick: no failure (it counts toward nothing; the job waits, E211)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.code, self.trips = "E211", False


class Garbled(ConversionError):
    """The answer was not HTTP or JSON-RPC at all."""

    kind = "garbled"


class BadResult(ConversionError):
    kind = "result"


@dataclass(frozen=True)
class Failure:
    code: str
    message: str
    recovery: str


def failure_of(error: ConversionError) -> Failure:
    return failure_of_code(error.code)


def failure_of_code(code: str) -> Failure:
    entry = errors.get(code)
    return Failure(entry.code, entry.message, entry.recovery)
