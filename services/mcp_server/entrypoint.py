"""The entrypoint: the MCP tools (docling-mcp's names, arguments and result shapes, plus HTML and JSON
exports), each turning a tool call into a call of the handlers (``DocumentService``)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from services.mcp_server.adapters import metrics
from services.mcp_server.auth import Clients
from services.mcp_server.domain import ToolFailure
from services.mcp_server.handlers import DocumentService

Key = Annotated[str, Field(description="The unique identifier of the document in the local cache.")]
warnings.filterwarnings("ignore", message='Field name "json"', category=UserWarning)  # JsonOutput.json
READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False)
WRITES = ToolAnnotations(readOnlyHint=False, destructiveHint=False)


@dataclass
class ConversionOutput:
    from_cache: bool
    document_key: str
    pipeline: str  # which docling pipeline produced it: simple, native (PDF text layer) or standard


@dataclass
class MarkdownOutput:
    document_key: str
    markdown: str


@dataclass
class HtmlOutput:
    document_key: str
    html: str


@dataclass
class JsonOutput:
    document_key: str
    json: str  # the DoclingDocument as JSON text


@dataclass
class SaveOutput:
    md_file: str
    json_file: str


@dataclass
class InCacheOutput:
    in_cache: bool


@dataclass
class DroppedOutput:
    dropped: bool


@dataclass
class CachedKeysOutput:
    document_keys: list[str]


@contextmanager
def _counted(tool: str) -> Iterator[None]:
    """Counts the call; a `ToolFailure` becomes the `ToolError` whose message the caller reads."""
    try:
        yield
    except ToolFailure as exc:
        metrics.TOOL_CALLS.labels(tool, "error").inc()
        raise ToolError(str(exc)) from exc
    except BaseException:
        metrics.TOOL_CALLS.labels(tool, "error").inc()
        raise
    metrics.TOOL_CALLS.labels(tool, "ok").inc()


def _client(ctx: Context, clients: Clients) -> str:
    """The calling client (the auth middleware already refused unknown secrets)."""
    client = clients.identify(ctx.headers)
    if client is None:
        raise ToolError("unauthorized: send Authorization: Bearer <MCP server secret>")
    return client


def register(server: MCPServer, service: DocumentService, clients: Clients) -> None:
    @server.tool(title="Convert document into Docling document", annotations=WRITES)
    async def convert_document_into_docling_document(
        source: Annotated[str, Field(description="A URL, or a local path under the server's allowed roots.")],
        ctx: Context,
    ) -> ConversionOutput:
        """Convert a document from a URL or local path into a Docling document kept in the local cache.

        Reports progress (per stage, per page for PDFs) when the request carries a progress token.
        """
        with _counted("convert_document_into_docling_document"):
            done = await service.convert(
                source,
                lambda percent, message: ctx.report_progress(percent, 100.0, message),
                _client(ctx, clients),
            )
            return ConversionOutput(done.from_cache, done.document_key, done.pipeline)

    @server.tool(title="Export Docling document to markdown format", annotations=READ_ONLY)
    def export_docling_document_to_markdown(
        document_key: Key,
        ctx: Context,
        max_size: Annotated[
            int | None, Field(description="The maximum number of characters to return.")
        ] = None,
    ) -> MarkdownOutput:
        """Export a document from the local document cache to markdown format."""
        with _counted("export_docling_document_to_markdown"):
            markdown = service.document(document_key, _client(ctx, clients)).markdown
            return MarkdownOutput(document_key, markdown if max_size is None else markdown[:max_size])

    @server.tool(title="Export Docling document to HTML", annotations=READ_ONLY)
    def export_docling_document_to_html(document_key: Key, ctx: Context) -> HtmlOutput:
        """Export a document from the local document cache to HTML."""
        with _counted("export_docling_document_to_html"):
            return HtmlOutput(document_key, service.document(document_key, _client(ctx, clients)).html)

    @server.tool(title="Export Docling document to JSON", annotations=READ_ONLY)
    def export_docling_document_to_json(document_key: Key, ctx: Context) -> JsonOutput:
        """Return a document from the local document cache as DoclingDocument JSON text."""
        with _counted("export_docling_document_to_json"):
            return JsonOutput(document_key, service.document(document_key, _client(ctx, clients)).json)

    @server.tool(title="Save Docling document", annotations=WRITES)
    async def save_docling_document(document_key: Key, ctx: Context) -> SaveOutput:
        """Save a cached document into the server's CACHE_DIR as `<key>.md` and `<key>.json`."""
        with _counted("save_docling_document"):
            return SaveOutput(*await service.save(document_key, _client(ctx, clients)))

    _register_cache_tools(server, service, clients)


def _register_cache_tools(server: MCPServer, service: DocumentService, clients: Clients) -> None:
    @server.tool(title="Check if Docling document is in cache", annotations=READ_ONLY)
    def check_document_in_local_cache(document_key: Key, ctx: Context) -> InCacheOutput:
        """Check whether a Docling document is already converted and present in the local cache."""
        with _counted("check_document_in_local_cache"):
            return InCacheOutput(service.holds(document_key, _client(ctx, clients)))

    @server.tool(
        title="Remove document from local cache",
        annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True),
    )
    def remove_document_from_local_cache(document_key: Key, ctx: Context) -> DroppedOutput:
        """Remove a document from the local cache and release its memory."""
        with _counted("remove_document_from_local_cache"):
            return DroppedOutput(service.drop(document_key, _client(ctx, clients)))

    @server.tool(title="List cached Docling documents", annotations=READ_ONLY)
    def list_cached_documents(ctx: Context) -> CachedKeysOutput:
        """Return the keys of the caller's Docling documents currently held in the local cache."""
        with _counted("list_cached_documents"):
            return CachedKeysOutput(service.keys(_client(ctx, clients)))
