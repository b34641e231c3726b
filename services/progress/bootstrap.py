"""The one place that wires real adapters to the handlers."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream
from redis.asyncio import Redis

from runtime import bus, schema, worker
from runtime.sse_buffer import SseBuffer
from services.progress import entrypoint, handlers
from services.progress.adapters import postgres
from services.progress.settings import ProgressSettings


def build(settings: ProgressSettings) -> AsgiFastStream:
    broker = bus.broker(settings.nats_url, "progress", settings.reconnect_policy())
    redis = Redis(**settings.redis_connection(), decode_responses=True)
    deps = handlers.Deps(pool=None, buffer=SseBuffer(redis))  # the pool is made at start-up
    consumers = []

    async def purge(older_than_s: float) -> int:
        """Retention: the jobs' rows and archived events, then their events in the stream."""
        purged = await postgres.purge(deps.pool, older_than_s)
        await bus.forget_jobs(broker, purged)
        return len(purged)

    retention = settings.purge("jobs", purge)

    async def prepare() -> None:
        deps.pool = await schema.pool(settings.database_url, min_size=1, max_size=4)
        await postgres.migrate(deps.pool)
        await broker.connect()
        await bus.ensure_stream(broker, settings)
        consumers.append(entrypoint.consumer(bus.jetstream(broker), deps, settings))
        await consumers[0].start()
        await retention.start()

    async def close() -> None:
        await retention.stop()
        for consumer in consumers:
            await consumer.stop()
        await redis.aclose()
        if deps.pool is not None:
            await deps.pool.close()

    async def database_ok() -> bool:
        return deps.pool is not None and await deps.pool.fetchval("SELECT 1") == 1

    async def redis_ok() -> bool:
        return bool(await redis.ping())

    return worker.build_app(
        broker,
        checks={"postgres": database_ok, "redis": redis_ok},
        on_startup=[prepare],
        on_shutdown=[close],
        alive={"consumer": lambda: all(consumer.running() for consumer in consumers)},
    )
