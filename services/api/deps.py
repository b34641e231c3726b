"""The API's services: one typed object that bootstrap builds (real adapters, or fakes in unit tests)
and Litestar injects into every handler and guard as ``deps``."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from faststream.nats import NatsBroker
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from redis.asyncio import Redis

from runtime.links import Link
from services.api.adapters.api_keys import ApiKeyStore
from services.api.adapters.bus import Submissions
from services.api.adapters.fallback import RedisFallback
from services.api.adapters.limiter import RateLimiter
from services.api.adapters.live import EventFeed
from services.api.adapters.read_model import ReadModel
from services.api.adapters.sessions import SessionStore
from services.api.compat.outcomes import Outcomes
from services.api.compat.tasks import TaskStore
from services.api.settings import ApiSettings
from services.api.stream_slots import StreamSlots

LINKED = ("postgres", "redis", "mcp")  # dependencies whose reachability the health report follows


@dataclass
class Deps:
    settings: ApiSettings
    broker: NatsBroker
    redis: Redis
    submissions: Submissions
    feed: EventFeed
    read_model: ReadModel
    fallback: RedisFallback
    sessions: SessionStore
    limiter: RateLimiter
    tasks: TaskStore
    api_keys: ApiKeyStore
    outcomes: Outcomes
    stream_slots: StreamSlots
    health_http: httpx.AsyncClient  # the health report's MCP probe
    links: dict[str, Link] = field(default_factory=lambda: {name: Link(name) for name in LINKED})


def of(state: State) -> Deps:
    """The services bootstrap put in the app's state at start-up."""
    deps: Deps = state.deps
    return deps


PROVIDE = {"deps": Provide(of, sync_to_thread=False)}
Services = NamedDependency[Deps]  # how a route handler or a guard asks for them: ``deps: Services``
