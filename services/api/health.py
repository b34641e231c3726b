"""Health of the API and of what it depends on: liveness, readiness and the full report.

Overall state (CLAUDE.md, "Health Monitoring & Alerting"):
- ``unhealthy`` (HTTP 503) when PostgreSQL or NATS is down: no fallback, no job can be submitted
  or read;
- ``degraded`` (HTTP 200) when only Redis (SSE replay falls back to the PostgreSQL archive) or the
  MCP server is down, or the MCP circuit is open (jobs wait in the log until the server is back);
- ``healthy`` (HTTP 200) otherwise.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from litestar import Controller, Response, get

from contracts import keys
from runtime import bus
from runtime.links import WATCH_INTERVAL_S
from services.api.deps import Deps, Services

CRITICAL = ("postgres", "nats")  # down: unhealthy
DEGRADING = ("redis", "mcp")  # down: degraded
PROBE_TIMEOUT_S = 1.0  # a dependency slower than this to answer counts as down
STATUS_CODES = {"healthy": 200, "degraded": 200, "unhealthy": 503}
HEALTH_VALUES = {"healthy": 1.0, "degraded": 0.5, "unhealthy": 0.0}  # docling_health_status
CIRCUIT_VALUES = {"CLOSED": 0, "HALF_OPEN": 1, "OPEN": 2}  # docling_circuit_state


@dataclass
class Probe:
    """One dependency's answer: up or down, how long the probe took, and what else it learnt."""

    up: bool
    latency_ms: float
    details: dict = field(default_factory=dict)

    def view(self) -> dict:
        return {"status": "up" if self.up else "down", "latency_ms": self.latency_ms, **self.details}


def overall(up: Mapping[str, bool], circuit: str | None = None) -> str:
    """``healthy``, ``degraded`` or ``unhealthy`` from which dependencies answer."""
    if not all(up.get(name, False) for name in CRITICAL):
        return "unhealthy"
    if not all(up.get(name, False) for name in DEGRADING) or circuit == "OPEN":
        return "degraded"
    return "healthy"


def memory_percent(info: Mapping[str, object]) -> float | None:
    """Redis memory use: ``used_memory`` over ``maxmemory``, or over the machine's memory
    (``total_system_memory``) when no limit is set; None when neither is known."""
    limit = int(info.get("maxmemory") or 0) or int(info.get("total_system_memory") or 0)
    if not limit:
        return None
    return round(100.0 * int(info.get("used_memory") or 0) / limit, 2)


def circuit_state(raw: str | None) -> str:
    """The breaker's state from its Redis value; no key (never tripped) is CLOSED."""
    if not raw:
        return "CLOSED"
    try:
        state = json.loads(raw).get("state", "CLOSED")
    except (ValueError, AttributeError):
        return "CLOSED"
    return state if state in CIRCUIT_VALUES else "CLOSED"


async def _timed(check: Callable[[], Awaitable[object]]) -> Probe:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            result = await check()
        up, details = result if isinstance(result, tuple) else (bool(result), {})
    except Exception:  # any failure of a probe means the dependency is down
        up, details = False, {}
    return Probe(up, round((time.perf_counter() - started) * 1000, 2), details)


async def _redis(deps: Deps) -> tuple[bool, dict]:
    await deps.redis.ping()
    info = await deps.redis.info("memory")
    circuit = circuit_state(await deps.redis.get(keys.circuit(keys.CIRCUIT_MCP)))
    return True, {"memory_percent": memory_percent(info), "circuit": circuit}


async def _mcp(deps: Deps) -> bool:
    """Any HTTP answer below 500 from the MCP endpoint: the server is there (a GET without an MCP
    session is refused with 4xx by both servers)."""
    response = await deps.health_http.get(deps.settings.mcp_server_url)
    return response.status_code < 500


@dataclass
class Report:
    status: str
    dependencies: dict[str, Probe]
    circuit: str | None

    def body(self) -> dict:
        return {
            "status": self.status,
            "circuit": {keys.CIRCUIT_MCP: self.circuit},
            "dependencies": {name: probe.view() for name, probe in self.dependencies.items()},
        }


async def check(deps: Deps) -> Report:
    """Probe every dependency at once (each within ``PROBE_TIMEOUT_S``)."""
    probes = {
        "postgres": lambda: deps.read_model.pool.fetchval("SELECT 1"),
        "redis": lambda: _redis(deps),
        "nats": lambda: deps.broker.ping(timeout=PROBE_TIMEOUT_S),
        "mcp": lambda: _mcp(deps),
    }
    results = await asyncio.gather(*(_timed(probe) for probe in probes.values()))
    dependencies = dict(zip(probes, results, strict=True))
    for name, link in deps.links.items():  # NATS's own link follows its client's callbacks
        link.mark(dependencies[name].up)
    circuit = dependencies["redis"].details.pop("circuit", None)
    status = overall({name: probe.up for name, probe in dependencies.items()}, circuit)
    return Report(status, dependencies, circuit)


async def report(deps: Deps) -> Response[dict]:
    result = await check(deps)
    return Response(result.body(), status_code=STATUS_CODES[result.status])


class HealthController(Controller):
    path = "/"
    tags = ["health"]

    @get(
        "/api/v1/health",
        operation_id="getHealth",
        summary="Overall and per-dependency health: 200 healthy or degraded, 503 unhealthy",
    )
    async def health(self, deps: Services) -> Response[dict]:
        return await report(deps)

    @get("/health", operation_id="getHealthForLauncher", include_in_schema=False)
    async def launcher(self, deps: Services) -> Response[dict]:
        return await report(deps)

    @get("/readyz", operation_id="getReadiness", include_in_schema=False)
    async def readiness(self, deps: Services) -> Response[dict]:
        """Ready to serve: not unhealthy (PostgreSQL and NATS answer)."""
        return await report(deps)

    @get("/livez", operation_id="getLiveness", include_in_schema=False)
    async def liveness(self, deps: Services) -> Response[dict]:
        """The process can recover by itself: 503 once its NATS connection is closed for good (a
        supervisor restarts it then); no dependency is asked."""
        if bus.link(deps.broker).closed:
            return Response({"status": "dead", "failed": ["nats"]}, status_code=503)
        return Response({"status": "alive"}, status_code=200)


async def watch(deps: Deps, every_s: float = WATCH_INTERVAL_S) -> None:
    """Check the dependencies every ``every_s`` so an outage is logged (once) and counted in
    ``docling_connection_up`` even when nobody asks for health."""
    while True:
        await check(deps)
        await asyncio.sleep(every_s)
