"""Long-lived MCP sessions shared by the jobs of one converter process.

Opening a session costs an HTTP connection, ``initialize``, ``tools/list`` and compiling the tools'
output schemas, on both sides; one ``ClientSession`` carries concurrent calls. So a process keeps a
few sessions open and each job leases one for all its calls (a converted document lives in the
server process that made it: any session to that server reaches it). A session that fails in a way
that says the server or the transport is sick is dropped and the failure reaches the job with the
code it would have had on a session of its own; the next job opens a fresh session.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from mcp.types import CONNECTION_CLOSED, INVALID_REQUEST

from services.converter.adapters.mcp import DoclingSession
from services.converter.domain import ConversionError, Progress, ProtocolError, Unreachable

Opener = Callable[[], AbstractAsyncContextManager[DoclingSession]]
SESSION_GONE = ("Session not found", "Session terminated")  # HTTP 404: the server forgot the session
CLOSE_WAIT_S = 1.0  # how long a call that saw its session close waits to learn why


class _Slot:
    """One open session, owned by a task of its own: the ``mcp`` client's task groups must be
    entered and left by the same task, and no job's cancellation may close a shared session."""

    def __init__(self, opener: Opener) -> None:
        self.mcp: DoclingSession | None = None
        self.failure: ConversionError | None = None
        self.ready, self.closed, self._stop = asyncio.Event(), asyncio.Event(), asyncio.Event()
        # a clean context: the session's background tasks must not carry the first job's trace
        self.task = asyncio.create_task(self._own(opener), context=contextvars.Context())

    async def _own(self, opener: Opener) -> None:
        try:
            async with opener() as mcp:
                self.mcp = mcp
                self.ready.set()
                await self._stop.wait()
        except ConversionError as exc:  # docling_session maps transport failures to their codes
            self.failure = exc
        except Exception as exc:
            self.failure = Unreachable(f"MCP session ended: {type(exc).__name__}")
        finally:
            self.closed.set()
            self.ready.set()

    @property
    def usable(self) -> bool:
        return not self.closed.is_set() and not self._stop.is_set()

    async def opened(self) -> DoclingSession:
        await self.ready.wait()
        if self.mcp is None or not self.usable:
            raise copy.copy(self.failure) or Unreachable("the MCP session closed")
        return self.mcp

    def drop(self) -> None:
        self._stop.set()

    async def why_closed(self) -> ConversionError | None:
        """The failure that closed this session, if it closed (waiting briefly for it to say so)."""
        try:
            await asyncio.wait_for(self.closed.wait(), CLOSE_WAIT_S)
        except TimeoutError:
            return None
        return copy.copy(self.failure) or Unreachable("the MCP session closed")


class SessionPool:
    """Up to ``size`` sessions to one server; jobs are spread over them in turn."""

    def __init__(self, opener: Opener, size: int) -> None:
        self.opener, self.size = opener, size
        self.slots: list[_Slot] = []
        self._turn = 0

    def _pick(self) -> _Slot:
        self.slots = [slot for slot in self.slots if slot.usable]
        if len(self.slots) < self.size:
            self.slots.append(_Slot(self.opener))
            return self.slots[-1]
        self._turn = (self._turn + 1) % len(self.slots)
        return self.slots[self._turn]

    def replace(self, slot: _Slot) -> _Slot:
        """Drop a session that is gone and hand out another."""
        slot.drop()
        return self._pick()

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[DoclingSession]:
        """A session for one job's calls (the handlers' ``open_session``)."""
        lease = Lease(self, self._pick())
        await lease.start()
        yield lease

    async def close(self) -> None:
        for slot in self.slots:
            slot.drop()
        await asyncio.gather(*(slot.task for slot in self.slots), return_exceptions=True)
        self.slots = []


class Lease(DoclingSession):
    """A job's view of a pooled session. A session the server no longer knows (it restarted) or
    that closed before this job got an answer on it is replaced once, transparently. After a first
    answer the job's document lives in that session's server process, so the failure is the job's:
    the code that closed the session, or ``Unreachable`` (it is retried from its checkpoint)."""

    def __init__(self, pool: SessionPool, slot: _Slot) -> None:
        self.pool, self.slot, self.answered = pool, slot, False

    async def start(self) -> None:
        mcp = await self.slot.opened()
        super().__init__(mcp.session, mcp.timeout_s, mcp.exports_content, mcp.queue_timeout_s)

    async def call(self, tool: str, progress: Progress | None = None, **arguments: Any) -> dict:
        for retry in (False, True):
            try:
                result = await self._call_once(tool, progress, arguments)
                break
            except _Stale as stale:
                if self.answered or retry:
                    raise stale.cause from stale.__cause__
                self.slot = self.pool.replace(self.slot)
                await self.start()
        self.answered = True
        return result

    async def _call_once(self, tool: str, progress: Progress | None, arguments: dict) -> dict:
        try:
            return await super().call(tool, progress, **arguments)
        except ProtocolError as exc:
            if exc.jsonrpc_code == INVALID_REQUEST and any(text in exc.detail for text in SESSION_GONE):
                self.slot.drop()
                raise _Stale(
                    Unreachable(f"{tool}: the MCP server ended the session (it restarted?)")
                ) from exc
            if exc.jsonrpc_code == CONNECTION_CLOSED and (cause := await self.slot.why_closed()) is not None:
                raise _Stale(cause) from exc
            self._drop_if_sick(exc)
            raise
        except ConversionError as exc:
            self._drop_if_sick(exc)
            raise

    def _drop_if_sick(self, exc: ConversionError) -> None:
        if exc.trips:
            self.slot.drop()


class _Stale(Exception):
    """The session is gone (closed here, or unknown to the server); ``cause`` is the job's failure."""

    def __init__(self, cause: ConversionError) -> None:
        super().__init__(cause.detail)
        self.cause = cause
