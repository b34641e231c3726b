"""The one place that wires real adapters to the handlers."""

from __future__ import annotations

from functools import partial

import asyncpg
from faststream.asgi import AsgiFastStream

from services.converter import entrypoint, handlers
from services.converter.adapters.mcp import docling_session
from services.converter.adapters.results import ResultStore
from services.converter.adapters.saved import read_saved_json
from services.converter.settings import ConverterSettings
from services.runtime import bus, worker


def build(settings: ConverterSettings) -> AsgiFastStream:
    broker = bus.broker(settings.nats_url, "converter")
    deps = handlers.Deps(
        open_session=partial(docling_session, settings.mcp_server_url, settings.mcp_timeout_s),
        read_saved_json=read_saved_json,
        results=ResultStore(pool=None),  # the pool needs the event loop: made at start-up
        publish=lambda event: bus.publish(broker, event),
        server_url=settings.mcp_server_url,
    )
    entrypoint.register(broker, deps, settings)

    async def prepare() -> None:
        deps.results.pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=4)
        await deps.results.migrate()
        await broker.connect()
        await bus.ensure_stream(broker, settings)

    async def close() -> None:
        if deps.results.pool is not None:
            await deps.results.pool.close()

    async def database_ok() -> bool:
        pool = deps.results.pool
        return pool is not None and await pool.fetchval("SELECT 1") == 1

    return worker.build_app(broker, checks={"postgres": database_ok},
                            on_startup=[prepare], on_shutdown=[close])
