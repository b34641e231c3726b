"""Hosts a FastStream worker as an ASGI app on its own port: ``/livez`` (liveness: the process can
still recover by itself), ``/readyz`` and ``/health`` (readiness: NATS and the worker's own
dependencies answer), ``/metrics`` (Prometheus: the default registry, FastStream's message metrics
included)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack

import uvicorn
from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.nats import NatsBroker

from runtime import bus, links
from runtime.links import Check, Link
from runtime.metrics import exposition

Alive = Callable[[], bool]
PROBE_TIMEOUT_S = 2.0


def _json(body: object, code: int) -> AsgiResponse:
    return AsgiResponse(json.dumps(body).encode(), code, {"content-type": "application/json"})


def health_route(broker: NatsBroker, checks: Mapping[str, Check], states: Mapping[str, Link]) -> object:
    @get(include_in_schema=False)
    async def health(scope: object) -> AsgiResponse:
        status = {"nats": await broker.ping(timeout=PROBE_TIMEOUT_S)}
        status.update(await links.look(checks, states, PROBE_TIMEOUT_S))
        return _json(status, 200 if all(status.values()) else 503)

    return health


def metrics_route() -> object:
    @get(include_in_schema=False)
    async def metrics(scope: object) -> AsgiResponse:
        body, content_type = exposition()
        return AsgiResponse(body, 200, {"content-type": content_type})

    return metrics


def liveness_route(alive: Mapping[str, Alive]) -> object:
    """200 while the process can recover by itself; 503 naming what cannot (a supervisor restarts
    it then): the NATS connection closed for good, or a consumer loop that ended."""

    @get(include_in_schema=False)
    async def livez(scope: object) -> AsgiResponse:
        dead = sorted(name for name, check in alive.items() if not check())
        if dead:
            return _json({"status": "dead", "failed": dead}, 503)
        return _json({"status": "alive"}, 200)

    return livez


def build_app(
    broker: NatsBroker,
    *,
    checks: dict[str, Check],
    on_startup: Sequence = (),
    on_shutdown: Sequence = (),
    alive: Mapping[str, Alive] | None = None,
) -> AsgiFastStream:
    states = {name: Link(name) for name in checks}
    nats = bus.link(broker)
    alive = {"nats": lambda: not nats.closed, **(alive or {})}
    watcher = AsyncExitStack()

    async def watch() -> None:
        await watcher.enter_async_context(links.watching(checks, states))

    return AsgiFastStream(
        broker,
        asgi_routes=[
            ("/health", health_route(broker, checks, states)),
            ("/readyz", health_route(broker, checks, states)),
            ("/livez", liveness_route(alive)),
            ("/metrics", metrics_route()),
        ],
        on_startup=[*on_startup, watch],
        on_shutdown=[watcher.aclose, *on_shutdown],
    )


def serve(app: AsgiFastStream, host: str, port: int) -> None:
    uvicorn.run(app, host=host, port=port, log_config=None, lifespan="on", access_log=False)
