"""The one place that wires the real adapters into the API's one services object (``deps.Deps``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from litestar import Litestar
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from runtime import bus, schema
from services.api import health
from services.api.adapters.api_keys import ApiKeyStore
from services.api.adapters.bus import Submissions
from services.api.adapters.fallback import RedisFallback
from services.api.adapters.limiter import RateLimiter
from services.api.adapters.live import EventFeed
from services.api.adapters.read_model import ReadModel
from services.api.adapters.sessions import SessionStore
from services.api.compat.outcomes import Outcomes
from services.api.compat.tasks import TaskStore
from services.api.deps import Deps
from services.api.settings import RATE_LIMIT_DEFAULTS, ApiSettings
from services.api.stream_slots import StreamSlots

Wiring = Callable[[ApiSettings], AbstractAsyncContextManager[Deps]]  # settings -> the services, open


@asynccontextmanager
async def real_services(settings: ApiSettings) -> AsyncIterator[Deps]:
    """The real adapters, connected and migrated; closed again on the way out."""
    broker = bus.broker(settings.nats_url, "api", settings.reconnect_policy())
    for endpoint in RATE_LIMIT_DEFAULTS:  # a malformed limit stops the start, not a request
        settings.policy(endpoint)
    redis = Redis(
        **settings.redis_connection(),
        decode_responses=True,
        socket_timeout=settings.redis_timeout_s,
        socket_connect_timeout=settings.redis_timeout_s,
        retry=Retry(NoBackoff(), 0),
    )
    pool = await schema.pool(
        settings.database_url,
        min_size=1,
        max_size=8,
        timeout=settings.db_timeout_s,
        command_timeout=settings.db_timeout_s,
    )
    fallback = RedisFallback()
    tasks = TaskStore(pool, settings.db_timeout_s)
    await tasks.migrate()
    api_keys = ApiKeyStore(pool, settings.db_timeout_s)
    await api_keys.migrate()
    await broker.start()
    await bus.ensure_stream(broker, settings)
    await bus.staging_store(broker, declare=True, replicas=settings.stream_replicas)
    deps = Deps(
        settings=settings,
        broker=broker,
        redis=redis,
        submissions=Submissions(broker),
        feed=EventFeed(redis),
        read_model=ReadModel(pool, settings.db_timeout_s),
        fallback=fallback,
        sessions=SessionStore(redis, fallback),
        limiter=RateLimiter(redis, fallback),
        tasks=tasks,
        api_keys=api_keys,
        outcomes=Outcomes(broker),
        stream_slots=StreamSlots(settings.sse_max_streams, settings.sse_max_streams_per_session),
        health_http=httpx.AsyncClient(timeout=2.0),
    )
    retention = settings.purge("compat_tasks", tasks.purge)
    await retention.start()
    try:
        yield deps
    finally:
        await retention.stop()
        await deps.feed.aclose()
        await broker.stop()
        await redis.aclose()
        await pool.close()
        await deps.health_http.aclose()


def lifespan(
    settings: ApiSettings, services: Wiring = real_services, *, watch: bool = True
) -> Callable[[Litestar], AbstractAsyncContextManager]:
    """Build the services in one async step (the real ones, or the fakes a unit test passes), put
    them where ``deps.of`` finds them, and watch the dependencies while the app runs."""

    @asynccontextmanager
    async def wire(app: Litestar) -> AsyncIterator[None]:
        async with services(settings) as deps:
            app.state.deps = deps
            watcher = asyncio.create_task(health.watch(deps), name="watch-dependencies") if watch else None
            try:
                yield
            finally:
                if watcher is not None:
                    watcher.cancel()

    return wire
