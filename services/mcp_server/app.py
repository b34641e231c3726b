"""The HTTP application: MCP (streamable HTTP) at /mcp behind a bearer secret, plus GET /health and
GET /metrics (open: no document data)."""

from __future__ import annotations

import importlib.metadata

from mcp.server.mcpserver import MCPServer
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp

from services.mcp_server import entrypoint
from services.mcp_server.adapters import metrics
from services.mcp_server.auth import BearerAuth, Clients
from services.mcp_server.handlers import DocumentService


def build(service: DocumentService, host: str, clients: Clients) -> ASGIApp:
    server = MCPServer(
        "docling",
        version=_version(),
        instructions=(
            "Converts documents with Docling. Call convert_document_into_docling_document, then export the "
            "document_key it returns (markdown, html, json)."
        ),
    )
    entrypoint.register(server, service, clients)

    @server.custom_route("/health", methods=["GET"], include_in_schema=False)
    async def health(request: Request) -> Response:
        workers = service.pool.health()
        status = "ok" if workers["ready"] > 0 else "starting"
        body = {
            "status": status,
            "service": "mcp-server",
            "version": _version(),
            "workers": workers,
            "cache": {"documents": len(service.cache), "bytes": service.cache.size_bytes},
        }
        return JSONResponse(body, status_code=200 if status == "ok" else 503)

    @server.custom_route("/metrics", methods=["GET"], include_in_schema=False)
    async def prometheus(request: Request) -> Response:
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    return BearerAuth(server.streamable_http_app(host=host), clients)


def _version() -> str:
    try:
        return importlib.metadata.version("docling-jobs")
    except importlib.metadata.PackageNotFoundError:
        return "0.1.0"
