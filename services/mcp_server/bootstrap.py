"""The one place that wires the real adapters: worker pool, source reader, service, HTTP app."""

from __future__ import annotations

import os

import uvicorn

from services.mcp_server import app
from services.mcp_server.adapters.pool import WorkerPool
from services.mcp_server.adapters.sources import SourceReader
from services.mcp_server.auth import Clients
from services.mcp_server.handlers import DocumentService
from services.mcp_server.settings import McpServerSettings


async def serve(settings: McpServerSettings) -> None:
    """Serve until SIGINT/SIGTERM, then stop every worker this server started."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # models are used when present, never downloaded
    clients = Clients(settings.tokens())  # refuses to start without a secret
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    pool = WorkerPool(settings)
    reader = SourceReader(settings)
    service = DocumentService(settings, pool, reader)
    config = uvicorn.Config(
        app.build(service, settings.host, clients),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    pool.start()
    try:
        await uvicorn.Server(config).serve()
    finally:
        await pool.stop()
        await reader.close()
