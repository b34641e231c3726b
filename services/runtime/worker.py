"""Hosts a FastStream worker as an ASGI app on its own port: ``/livez`` (liveness: the process
answers), ``/readyz`` and ``/health`` (readiness: NATS and the worker's own dependencies answer),
``/metrics`` (Prometheus: the default registry, FastStream's message metrics included)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence

import uvicorn
from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.nats import NatsBroker

from services.runtime.metrics import exposition

Check = Callable[[], Awaitable[bool]]


def health_route(broker: NatsBroker, checks: dict[str, Check]) -> object:
    @get(include_in_schema=False)
    async def health(scope: object) -> AsgiResponse:
        status = {"nats": await broker.ping(timeout=2.0)}
        for name, check in checks.items():
            try:
                status[name] = await check()
            except Exception:  # a failing probe is an unhealthy dependency, not a crash
                status[name] = False
        code = 200 if all(status.values()) else 503
        return AsgiResponse(json.dumps(status).encode(), code, {"content-type": "application/json"})

    return health


def metrics_route() -> object:
    @get(include_in_schema=False)
    async def metrics(scope: object) -> AsgiResponse:
        body, content_type = exposition()
        return AsgiResponse(body, 200, {"content-type": content_type})

    return metrics


def liveness_route() -> object:
    @get(include_in_schema=False)
    async def livez(scope: object) -> AsgiResponse:
        return AsgiResponse(b'{"status": "alive"}', 200, {"content-type": "application/json"})

    return livez


def build_app(
    broker: NatsBroker, *, checks: dict[str, Check], on_startup: Sequence = (), on_shutdown: Sequence = ()
) -> AsgiFastStream:
    ready = health_route(broker, checks)
    return AsgiFastStream(
        broker,
        asgi_routes=[
            ("/health", ready),
            ("/readyz", ready),
            ("/livez", liveness_route()),
            ("/metrics", metrics_route()),
        ],
        on_startup=on_startup,
        on_shutdown=on_shutdown,
    )


def serve(app: AsgiFastStream, host: str, port: int) -> None:
    uvicorn.run(app, host=host, port=port, log_config=None, lifespan="on", access_log=False)
