"""The staging object store where the API leaves upload bytes for ingest."""

from __future__ import annotations

from faststream.nats import NatsBroker
from nats.js.errors import NotFoundError, ObjectNotFoundError

from services.runtime import bus


class Staging:
    def __init__(self, broker: NatsBroker) -> None:
        self.broker = broker

    async def fetch(self, name: str) -> bytes | None:
        store = await bus.staging_store(self.broker)
        try:
            return (await store.get(name)).data
        except (ObjectNotFoundError, NotFoundError):
            return None

    async def discard(self, name: str) -> None:
        store = await bus.staging_store(self.broker)
        try:
            await store.delete(name)
        except (ObjectNotFoundError, NotFoundError):
            pass
