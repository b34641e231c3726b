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
    redis = Redis(host=settings.redis_host, port=settings.redis_port, decode_responses=True)
    deps = handlers.Deps(pool=None, buffer=SseBuffer(redis))  # the pool is made at start-up
    consumers = []

    async def prepare() -> None:
        deps.pool = await schema.pool(settings.database_url, min_size=1, max_size=4)
        await postgres.migrate(deps.pool)
        await broker.connect()
        await bus.ensure_stream(broker, settings)
        consumers.append(entrypoint.consumer(bus.jetstream(broker), deps, settings))
        await consumers[0].start()

    async def close() -> None:
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
