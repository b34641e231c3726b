"""Health of the API and of what it depends on."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from litestar import Controller, Response, get
from litestar.datastructures import State


async def _timed(check: Callable[[], Awaitable[object]]) -> dict:
    started = time.perf_counter()
    try:
        ok = bool(await check())
    except Exception:  # any failure of a probe means the dependency is down
        ok = False
    return {"status": "up" if ok else "down",
            "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


class HealthController(Controller):
    path = "/"
    tags = ["health"]

    @get("/api/v1/health", operation_id="getHealth", summary="Overall and per-dependency health")
    async def health(self, state: State) -> Response[dict]:
        return await report(state)

    @get("/health", operation_id="getReadiness", include_in_schema=False)
    async def readiness(self, state: State) -> Response[dict]:
        return await report(state)


async def report(state: State) -> Response[dict]:
    checks = {
        "postgres": lambda: state.read_model.pool.fetchval("SELECT 1"),
        "redis": lambda: state.redis.ping(),
        "nats": lambda: state.broker.ping(timeout=2.0),
    }
    dependencies = {name: await _timed(check) for name, check in checks.items()}
    down = {name for name, d in dependencies.items() if d["status"] == "down"}
    # without Redis the API still serves (sessions and rate limits from memory): degraded, not down
    status = "healthy" if not down else "degraded" if down == {"redis"} else "unhealthy"
    body = {"status": status, "dependencies": dependencies}
    return Response(body, status_code=503 if status == "unhealthy" else 200)
