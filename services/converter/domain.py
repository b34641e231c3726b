"""Pure rules of conversion: the stages, their progress, and what each failure means."""

from __future__ import annotations

from dataclasses import dataclass

from contracts import errors

# stage finished -> share of the job done once it has
STAGE_PROGRESS: dict[str, int] = {
    "converting": 60,
    "exporting_markdown": 75,
    "exporting_json": 85,
    "exporting_html": 95,
}


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
    """A conversion that cannot finish; ``code`` is the application error code."""

    code = "E204"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ToolFailed(ConversionError):
    """The server ran the tool and it failed: the document itself is the problem."""

    code = "E205"


class ProtocolError(ConversionError):
    """A JSON-RPC error answered the call."""

    def __init__(self, jsonrpc_code: int, detail: str) -> None:
        super().__init__(detail)
        self.jsonrpc_code = jsonrpc_code
        self.code = errors.from_jsonrpc(jsonrpc_code).code


class Unreachable(ConversionError):
    code = "E206"


class TimedOut(ConversionError):
    code = "E207"


class BadResult(ConversionError):
    code = "E208"


@dataclass(frozen=True)
class Failure:
    code: str
    message: str
    recovery: str


def failure_of(error: ConversionError) -> Failure:
    entry = errors.get(error.code)
    return Failure(entry.code, entry.message, entry.recovery)
