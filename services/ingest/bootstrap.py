"""The one place that wires real adapters to the handlers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from faststream.asgi import AsgiFastStream
from faststream.nats import NatsBroker

from contracts.envelope import Event
from runtime import bus, worker
from services.ingest import entrypoint, handlers
from services.ingest.adapters.files import UploadStore
from services.ingest.adapters.staging import Staging
from services.ingest.settings import IngestSettings


def wire(
    settings: IngestSettings,
    broker: NatsBroker | None = None,
    *,
    staging: handlers.StagedUploads | None = None,
    store: handlers.Uploads | None = None,
    publish: Callable[[Event], Awaitable[int]] | None = None,
    has_outcome: Callable[[str], Awaitable[bool]] | None = None,
) -> handlers.Deps:
    """The handlers' dependencies: the real adapters on ``broker``, or the fakes given instead
    (unit tests pass every one and no broker)."""

    def needs_broker() -> NatsBroker:
        assert broker is not None, "a real adapter needs the broker"
        return broker

    return handlers.Deps(
        staging=staging or Staging(needs_broker()),
        store=store or UploadStore(settings.upload_dir),
        publish=publish or (lambda event: bus.publish(needs_broker(), event)),
        has_outcome=has_outcome or (lambda job_id: bus.has_outcome(needs_broker(), job_id)),
    )


def build(settings: IngestSettings) -> AsgiFastStream:
    broker = bus.broker(settings.nats_url, "ingest", settings.reconnect_policy())
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    uploads = UploadStore(settings.upload_dir)
    deps = wire(settings, broker, store=uploads)
    entrypoint.register(broker, deps, settings)

    retention = settings.purge("uploads", lambda older_than_s: asyncio.to_thread(uploads.purge, older_than_s))

    async def prepare() -> None:
        await broker.connect()
        await bus.ensure_stream(broker, settings)
        await bus.staging_store(broker, declare=True, replicas=settings.stream_replicas)
        await retention.start()

    return worker.build_app(broker, checks={}, on_startup=[prepare], on_shutdown=[retention.stop])
