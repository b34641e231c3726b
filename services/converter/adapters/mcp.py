"""The Docling MCP server, spoken to over streamable HTTP with the official ``mcp`` client."""

from __future__ import annotations

import functools
import json
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from opentelemetry.trace import SpanKind, StatusCode

from runtime.tracing import tracer
from services.converter.domain import (
    QUEUE_TIMEOUT_S,
    QUEUED_MESSAGE,
    BadResult,
    ConversionError,
    Garbled,
    Progress,
    ProtocolError,
    ServerBusy,
    TimedOut,
    ToolFailed,
    Unreachable,
)

CONTENT_EXPORTS = frozenset({"export_docling_document_to_html", "export_docling_document_to_json"})
_exports_content: dict[str, bool] = {}  # server URL -> whether it has the content export tools


class DoclingSession:
    """One MCP session: a converted document lives in the server process that made it.

    ``exports_content`` tells whether the server returns HTML and JSON as content (the project's
    own server) or only saves the JSON to its disk (the official docling-mcp).
    """

    def __init__(
        self,
        session: ClientSession,
        timeout_s: float,
        exports_content: bool,
        queue_timeout_s: float = QUEUE_TIMEOUT_S,
    ) -> None:
        self.session = session
        self.timeout_s = timeout_s
        self.exports_content = exports_content
        self.queue_timeout_s = queue_timeout_s

    async def call(self, tool: str, progress: Progress | None = None, **arguments: Any) -> dict:
        """One tool call within ``timeout_s`` of running time: while the server says the call
        waits for a worker, its clock is ``queue_timeout_s`` instead (past it: ``ServerBusy``)."""
        clock = CallClock(self.timeout_s, self.queue_timeout_s)

        async def relay(value: float, total: float | None, message: str | None) -> None:
            clock.heard(message)
            if progress is not None:
                await progress(value, total)

        try:
            with (
                tracer().start_as_current_span(
                    f"mcp tools/call {tool}",
                    kind=SpanKind.CLIENT,
                    attributes={"rpc.system": "jsonrpc", "mcp.tool": tool},
                ) as span,
                anyio.fail_after(self.timeout_s) as scope,
            ):
                clock.scope = scope
                result = await self.session.call_tool(tool, arguments, progress_callback=relay)
                if result.is_error:
                    span.set_status(StatusCode.ERROR, "tool error")
        except TimeoutError as exc:
            if clock.queued:
                raise ServerBusy(f"{tool} waited {self.queue_timeout_s:.0f} s for a worker") from exc
            raise TimedOut(f"{tool} took longer than {self.timeout_s:.0f} s") from exc
        except MCPError as exc:
            raise ProtocolError(exc.code, f"{tool}: {exc.message}") from exc
        if result.is_error:
            raise ToolFailed(f"{tool}: " + " ".join(getattr(c, "text", "") for c in result.content))
        return _structured(tool, result)

    async def convert(self, source: str, progress: Progress | None = None) -> str:
        return _field(
            await self.call("convert_document_into_docling_document", progress, source=source), "document_key"
        )

    async def markdown(self, key: str) -> str:
        return _field(await self.call("export_docling_document_to_markdown", document_key=key), "markdown")

    async def save(self, key: str) -> dict:
        return await self.call("save_docling_document", document_key=key)

    async def html(self, key: str) -> str:
        return _field(await self.call("export_docling_document_to_html", document_key=key), "html")

    async def json(self, key: str) -> str:
        return _field(await self.call("export_docling_document_to_json", document_key=key), "json")

    async def forget(self, key: str) -> None:
        await self.call("remove_document_from_local_cache", document_key=key)


class CallClock:
    """The deadline of one call: ``timeout_s`` from its start, or, from the moment the server
    reports the call queued (``QUEUED_MESSAGE``), ``queue_timeout_s``; once the server reports
    anything else (a worker took it), ``timeout_s`` again from then. Time queued counts for nothing."""

    def __init__(self, timeout_s: float, queue_timeout_s: float) -> None:
        self.timeout_s, self.queue_timeout_s = timeout_s, queue_timeout_s
        self.queued = False
        self.scope: anyio.CancelScope | None = None

    def heard(self, message: str | None) -> None:
        queued = message == QUEUED_MESSAGE
        if queued == self.queued or self.scope is None:
            return
        self.queued = queued
        self.scope.deadline = anyio.current_time() + (self.queue_timeout_s if queued else self.timeout_s)


def _structured(tool: str, result: Any) -> dict:
    if isinstance(result.structured_content, dict):
        return result.structured_content
    for block in result.content:
        try:
            return json.loads(getattr(block, "text", ""))
        except ValueError:
            continue
    raise BadResult(f"{tool} returned no structured result")


def _field(payload: dict, name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str):
        raise BadResult(f"result has no '{name}'")
    return value


# The largest answer (one SSE event) taken from the server: the mcp client's default of 1 MB would
# refuse the JSON export of any document of a few hundred pages.
MAX_ANSWER_BYTES = 512 * 1024 * 1024


@asynccontextmanager
async def docling_session(
    url: str, timeout_s: float, token: str = "", queue_timeout_s: float = QUEUE_TIMEOUT_S
) -> AsyncIterator[DoclingSession]:
    """Open a session (with the server's shared secret as a bearer token when there is one);
    transport failures surface as ``Unreachable``."""
    try:
        async with (
            httpx2.AsyncClient(
                timeout=httpx2.Timeout(timeout_s, connect=5.0), verify=_ssl_context(), headers=bearer(token)
            ) as http,
            streamable_http_client(url, http_client=http, max_sse_event_size=MAX_ANSWER_BYTES) as (
                read,
                write,
            ),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            if url not in _exports_content:
                names = {tool.name for tool in (await session.list_tools()).tools}
                _exports_content[url] = CONTENT_EXPORTS <= names
            yield DoclingSession(session, timeout_s, _exports_content[url], queue_timeout_s)
    except BaseExceptionGroup as group:
        raise _unwrap(group, url) from group
    except TRANSPORT as exc:
        raise _transport(exc, url) from exc


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def probe(url: str, timeout_s: float, token: str = "") -> None:
    """The circuit breaker's trial: a session opens and the server lists its tools in time."""

    async def ask() -> None:
        async with docling_session(url, timeout_s, token) as mcp:
            await mcp.session.list_tools()

    try:
        with anyio.fail_after(timeout_s):
            await ask()
    except TimeoutError as exc:
        raise TimedOut(f"MCP server at {url} did not answer within {timeout_s:.0f} s") from exc


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """httpx builds a new SSL context for every client (~20 ms of CPU, even for plain http): build it once."""
    return httpx2.create_ssl_context()


GARBLED = (httpx2.RemoteProtocolError, httpx2.DecodingError)
TRANSPORT = (httpx2.TransportError, httpx2.DecodingError, httpx2.HTTPStatusError, OSError)


def _transport(exc: BaseException, url: str) -> ConversionError:
    """Unparseable bytes are E200 (server communication error); anything else is unreachable."""
    if isinstance(exc, GARBLED):
        return Garbled(f"MCP server at {url} answered unparseable bytes ({type(exc).__name__})")
    if isinstance(exc, httpx2.TimeoutException) and not isinstance(exc, httpx2.ConnectTimeout):
        return TimedOut(f"MCP server at {url} did not answer in time ({type(exc).__name__})")
    if isinstance(exc, httpx2.HTTPStatusError):
        return Unreachable(f"MCP server at {url} answered HTTP {exc.response.status_code}")
    return Unreachable(f"MCP server at {url}: {type(exc).__name__}")


def _leaves(group: BaseExceptionGroup) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        out.extend(_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return out


def _unwrap(group: BaseExceptionGroup, url: str) -> BaseException:
    """The mcp client runs in task groups; find the one error that matters inside the group."""
    leaves = _leaves(group)
    transport = [e for e in leaves if isinstance(e, TRANSPORT)]
    ours = [e for e in leaves if isinstance(e, Exception) and e not in transport]
    if ours:  # raised by the session's user (a ConversionError, or the caller's own signal)
        return next((e for e in ours if isinstance(e, ConversionError)), ours[0])
    if transport:
        return _transport(transport[0], url)
    return group
