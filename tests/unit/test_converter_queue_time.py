"""Time a call spends queued at the MCP server counts against nothing: the call's clock runs from
when a worker takes it, and a call queued too long makes the job wait (E211), never trips the circuit."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from services.converter import handlers
from services.converter.adapters.mcp import DoclingSession
from services.converter.breaker import Circuit
from services.converter.domain import QUEUED_MESSAGE, ServerBusy, TimedOut
from services.mcp_server.domain import progress_point
from tests.unit.test_converter_flow import Server, make, types, upload


def test_the_converter_knows_what_the_server_says_while_a_call_is_queued() -> None:
    assert progress_point("queued")[1] == QUEUED_MESSAGE
    assert progress_point("started")[1] != QUEUED_MESSAGE


FOREVER = None  # a phase that never ends: only a timeout can end the call


async def _phase(seconds: float | None) -> None:
    """At least ``seconds`` (a busy machine only makes it longer), or never."""
    if seconds is FOREVER:
        await asyncio.Event().wait()
    else:
        await asyncio.sleep(seconds)


class QueuedSession:
    """An MCP session whose convert call waits ``queued_s`` for a worker, then runs ``run_s``."""

    def __init__(self, queued_s: float | None, run_s: float | None) -> None:
        self.queued_s, self.run_s = queued_s, run_s

    async def call_tool(self, tool, arguments, progress_callback=None):
        await progress_callback(2.0, 100.0, "source received")
        await progress_callback(5.0, 100.0, QUEUED_MESSAGE)
        await _phase(self.queued_s)
        await progress_callback(10.0, 100.0, "conversion started")
        await _phase(self.run_s)
        return SimpleNamespace(is_error=False, structured_content={"document_key": "k"}, content=[])


def session(
    queued_s: float | None, run_s: float | None, timeout_s: float, queue_timeout_s: float
) -> DoclingSession:
    return DoclingSession(QueuedSession(queued_s, run_s), timeout_s, True, queue_timeout_s)  # type: ignore[arg-type]


async def test_time_queued_is_not_counted_against_the_call_timeout() -> None:
    # queued at least twice the call timeout: only a clock that counted queue time would expire
    mcp = session(queued_s=0.6, run_s=0.0, timeout_s=0.3, queue_timeout_s=30.0)
    assert await mcp.convert("/u/a.docx") == "k"


async def test_a_call_queued_past_the_queue_timeout_is_the_server_being_busy() -> None:
    mcp = session(queued_s=FOREVER, run_s=0.0, timeout_s=30.0, queue_timeout_s=0.2)
    with pytest.raises(ServerBusy) as busy:
        await mcp.convert("/u/a.docx")
    assert busy.value.code == "E211" and not busy.value.trips


async def test_running_time_past_the_timeout_is_still_e207() -> None:
    mcp = session(queued_s=0.0, run_s=FOREVER, timeout_s=0.2, queue_timeout_s=30.0)
    with pytest.raises(TimedOut) as slow:
        await mcp.convert("/u/a.docx")
    assert slow.value.code == "E207" and slow.value.trips


async def test_a_busy_server_makes_the_job_wait_without_an_attempt_or_a_circuit_failure() -> None:
    server = Server([ServerBusy("waited for a worker"), ServerBusy("waited again")])
    deps, events, _ = make(server)
    await handlers.on_upload_stored(upload(), deps)
    deferred = [e for e in events if e.event_type == "ConversionDeferred"]
    assert [(e.code, e.reason) for e in deferred] == [("E211", "server_busy")]
    assert types(events)[-1] == "ConversionSucceeded" and deps.circuit.circuit == Circuit()
