"""The one place that wires real adapters to the handlers."""

from __future__ import annotations

from functools import partial

import redis.asyncio as aioredis
from faststream.asgi import AsgiFastStream
from redis.backoff import NoBackoff
from redis.retry import Retry

from runtime import bus, schema, worker
from runtime.retention import Purge
from services.converter import entrypoint, handlers
from services.converter.adapters.checkpoint_store import CheckpointStore
from services.converter.adapters.circuit import SharedCircuit
from services.converter.adapters.mcp import docling_session, probe
from services.converter.adapters.results import ResultStore
from services.converter.adapters.saved import read_saved_json
from services.converter.adapters.sessions import SessionPool
from services.converter.adapters.shares import OwnerShares
from services.converter.settings import ConverterSettings

REDIS_TIMEOUT_S = 1.0  # the circuit falls back to memory rather than wait longer for Redis


def build(settings: ConverterSettings) -> AsgiFastStream:
    broker = bus.broker(settings.nats_url, "converter", settings.reconnect_policy())
    redis = aioredis.Redis(
        **settings.redis_connection(),
        socket_timeout=REDIS_TIMEOUT_S,
        socket_connect_timeout=REDIS_TIMEOUT_S,
        retry=Retry(NoBackoff(), 0),
    )
    token = settings.mcp_token()
    circuit = SharedCircuit(
        settings.breaker_name,
        settings.breaker_config(),
        redis,
        probe=partial(probe, settings.mcp_server_url, settings.breaker_probe_timeout_s, token),
    )
    sessions = SessionPool(
        partial(
            docling_session,
            settings.mcp_server_url,
            settings.mcp_timeout_s,
            token,
            settings.mcp_queue_timeout_s,
        ),
        settings.mcp_sessions,
    )
    deps = handlers.Deps(
        open_session=sessions.lease,
        read_saved_json=read_saved_json,
        results=ResultStore(pool=None),  # the pool needs the event loop: made at start-up
        publish=lambda event: bus.publish(broker, event),
        server_url=settings.mcp_server_url,
        circuit=circuit,
        checkpoints=CheckpointStore(pool=None),
        has_outcome=lambda job_id: bus.has_outcome(broker, job_id),
        patience=handlers.Patience(
            settings.retry_delay_s, settings.max_attempts, settings.defer_limit_s, settings.wait_poll_s
        ),
        progress_interval_s=settings.progress_interval_s,
        owner_wait_s=settings.owner_wait_s,
    )
    shares = OwnerShares(redis, settings.owner_max_active, settings.owner_lease_s, settings.defer_limit_s)
    deps.shares = shares
    entrypoint.register(broker, deps, settings, shares.waits)

    retention = [
        settings.purge("results", deps.results.purge),
        Purge(
            "checkpoints",
            deps.checkpoints.purge,
            settings.checkpoint_max_age_days,
            settings.retention_interval_s,
        ),
    ]

    async def prepare() -> None:
        pool = await schema.pool(settings.database_url, min_size=1, max_size=settings.concurrency + 2)
        deps.results.pool = deps.checkpoints.pool = pool
        await deps.results.migrate()
        await deps.checkpoints.migrate()
        await broker.connect()
        await bus.ensure_stream(broker, settings)
        await bus.ensure_deliveries(broker, entrypoint.UPLOADS_CONSUMER, bus.UNLIMITED_DELIVERIES)
        for purge in retention:
            await purge.start()

    async def close() -> None:
        for purge in retention:
            await purge.stop()
        await sessions.close()
        if deps.results.pool is not None:
            await deps.results.pool.close()
        await redis.aclose()

    async def database_ok() -> bool:
        pool = deps.results.pool
        return pool is not None and await pool.fetchval("SELECT 1") == 1

    return worker.build_app(
        broker, checks={"postgres": database_ok}, on_startup=[prepare], on_shutdown=[close]
    )
