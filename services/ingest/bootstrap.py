"""The one place that wires real adapters to the handlers."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from runtime import bus, worker
from services.ingest import entrypoint, handlers
from services.ingest.adapters.files import UploadStore
from services.ingest.adapters.staging import Staging
from services.ingest.settings import IngestSettings


def build(settings: IngestSettings) -> AsgiFastStream:
    broker = bus.broker(settings.nats_url, "ingest", settings.reconnect_policy())
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    deps = handlers.Deps(
        staging=Staging(broker),
        store=UploadStore(settings.upload_dir),
        publish=lambda event: bus.publish(broker, event),
        has_outcome=lambda job_id: bus.has_outcome(broker, job_id),
    )
    entrypoint.register(broker, deps, settings)

    async def prepare() -> None:
        await broker.connect()
        await bus.ensure_stream(broker, settings)
        await bus.staging_store(broker, declare=True, replicas=settings.stream_replicas)

    return worker.build_app(broker, checks={}, on_startup=[prepare])
