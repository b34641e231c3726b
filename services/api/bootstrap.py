"""The one place that wires real adapters into the app's state."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import asyncpg
import httpx
from litestar import Litestar
from redis.asyncio import Redis

from services.api.adapters.bus import Submissions
from services.api.adapters.live import EventFeed
from services.api.adapters.read_model import ReadModel
from services.api.settings import ApiSettings
from services.runtime import bus


def lifespan(settings: ApiSettings) -> Callable[[Litestar], AbstractAsyncContextManager]:
    @asynccontextmanager
    async def wire(app: Litestar) -> AsyncIterator[None]:
        broker = bus.broker(settings.nats_url, "api")
        redis = Redis(host=settings.redis_host, port=settings.redis_port, decode_responses=True)
        pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=8)
        await broker.start()
        await bus.ensure_stream(broker, settings)
        await bus.staging_store(broker, declare=True)
        app.state.update(settings=settings, broker=broker, redis=redis,
                         submissions=Submissions(broker), feed=EventFeed(redis),
                         read_model=ReadModel(pool))
        app.state.health_http = httpx.AsyncClient(timeout=2.0)  # the health report's MCP probe
        try:
            yield
        finally:
            await broker.stop()
            await redis.aclose()
            await pool.close()
            await app.state.health_http.aclose()

    return wire
