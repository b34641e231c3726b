"""The API's Prometheus metrics, its HTTP instrumentation and ``GET /api/v1/metrics``.

The health series are refreshed from a health check at every scrape. The endpoint exposes the
default registry, so every metric registered there (the shared ones of ``runtime.metrics``,
the rate limiter's, the process collector's) appears too.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator

from litestar import Controller, Response, get
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry.propagate import extract
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import Counter, Gauge, Histogram

from runtime.metrics import exposition
from runtime.tracing import tracer
from services.api import health
from services.api.deps import Deps, Services

HEALTH = Gauge("docling_health_status", "Overall health: 1 healthy, 0.5 degraded, 0 unhealthy")
DB_STATUS = Gauge("docling_db_status", "PostgreSQL answers: 1 up, 0 down")
DEPENDENCY_UP = Gauge("docling_dependency_up", "A dependency answers its probe: 1 up, 0 down", ["dependency"])
DEPENDENCY_LATENCY = Gauge(
    "docling_dependency_latency_seconds", "Duration of the dependency's last probe", ["dependency"]
)
REDIS_MEMORY = Gauge(
    "docling_redis_memory_percent",
    "Redis used_memory over maxmemory (over total_system_memory when no limit is set)",
)
CIRCUIT = Gauge("docling_circuit_state", "Circuit breaker: 0 closed, 1 half-open, 2 open", ["service"])
JOBS = Gauge("docling_jobs", "Jobs in the PostgreSQL projection by status and error code", ["status", "code"])
SSE_CONNECTIONS = Gauge("docling_sse_connections", "SSE streams this API instance has open")
HTTP_REQUESTS = Counter(
    "docling_http_requests_total",
    "HTTP requests answered, by route template and status",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "docling_http_request_duration_seconds",
    "Time to answer an HTTP request (an SSE stream: until its headers are sent)",
    ["method", "route"],
)


async def refresh(deps: Deps) -> None:
    """Bring the gauges derived from the dependencies up to date."""
    report = await health.check(deps)
    HEALTH.set(health.HEALTH_VALUES[report.status])
    for name, probe in report.dependencies.items():
        DEPENDENCY_UP.labels(name).set(1 if probe.up else 0)
        DEPENDENCY_LATENCY.labels(name).set(probe.latency_ms / 1000)
    DB_STATUS.set(1 if report.dependencies["postgres"].up else 0)
    percent = report.dependencies["redis"].details.get("memory_percent")
    REDIS_MEMORY.set(math.nan if percent is None else percent)
    if report.circuit is not None:
        CIRCUIT.labels(health.keys.CIRCUIT_MCP).set(health.CIRCUIT_VALUES[report.circuit])
    if report.dependencies["postgres"].up:
        await _count_jobs(deps)


async def _count_jobs(deps: Deps) -> None:
    rows = await deps.read_model.pool.fetch(
        "SELECT status, coalesce(error_code, '') AS code, count(*) AS n FROM jobs GROUP BY 1, 2"
    )
    JOBS.clear()
    for row in rows:
        JOBS.labels(row["status"], row["code"]).set(row["n"])


class MetricsController(Controller):
    path = "/api/v1/metrics"
    tags = ["health"]

    @get(
        "/",
        operation_id="getMetrics",
        summary="Prometheus metrics (text exposition format)",
        media_type="text/plain",
    )
    async def metrics(self, deps: Services) -> Response[bytes]:
        await refresh(deps)
        body, content_type = exposition()
        return Response(body, media_type=content_type)


async def counted_stream(messages: AsyncIterator) -> AsyncIterator:
    """An SSE stream counted in ``docling_sse_connections`` while it is open."""
    SSE_CONNECTIONS.inc()
    try:
        async for message in messages:
            yield message
    finally:
        SSE_CONNECTIONS.dec()


def instrument(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: a server span per request (continuing an incoming ``traceparent``) and the
    HTTP request metrics, labelled by route template, never by raw path."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        method, route = scope["method"], scope.get("path_template") or "unrouted"
        answered = {"status": 500}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered["status"] = message["status"]
                HTTP_DURATION.labels(method, route).observe(time.perf_counter() - started)
            await send(message)

        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        started = time.perf_counter()
        with tracer().start_as_current_span(
            f"{method} {route}",
            context=extract(headers),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "http.route": route, "url.path": scope["path"]},
        ) as span:
            try:
                await app(scope, receive, sending)
            finally:
                span.set_attribute("http.response.status_code", answered["status"])
                if answered["status"] >= 500:
                    span.set_status(StatusCode.ERROR)
                HTTP_REQUESTS.labels(method, route, str(answered["status"])).inc()

    return middleware
