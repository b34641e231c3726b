"""Hosts a FastStream worker as an ASGI app with ``/health`` and ``/metrics`` on its own port."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence

import uvicorn
from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.nats import NatsBroker
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

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
        return AsgiResponse(generate_latest(REGISTRY), 200, {"content-type": CONTENT_TYPE_LATEST})

    return metrics


def build_app(broker: NatsBroker, *, checks: dict[str, Check], on_startup: Sequence = (),
              on_shutdown: Sequence = ()) -> AsgiFastStream:
    return AsgiFastStream(
        broker,
        asgi_routes=[("/health", health_route(broker, checks)), ("/metrics", metrics_route())],
        on_startup=on_startup,
        on_shutdown=on_shutdown,
    )


def serve(app: AsgiFastStream, host: str, port: int) -> None:
    uvicorn.run(app, host=host, port=port, log_config=None, lifespan="on", access_log=False)
