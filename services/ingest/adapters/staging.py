"""The staging object store where the API leaves upload bytes for ingest."""

from __future__ import annotations

from typing import BinaryIO

from faststream.nats import NatsBroker
from nats.js.errors import NotFoundError, ObjectNotFoundError

from runtime import bus

NO_MESSAGE = 10037  # JetStream: no message found (as opposed to, e.g., 10059 stream not found)


class Staging:
    def __init__(self, broker: NatsBroker) -> None:
        self.broker = broker

    async def fetch_into(self, name: str, sink: BinaryIO) -> bool:
        """Write the upload's bytes into ``sink`` chunk by chunk; False only when JetStream says
        the object is not there. A "not found" about the stream itself (a cluster between two
        stream leaders) is raised, to be retried; so is a digest mismatch (a torn read)."""
        store = await bus.staging_store(self.broker)
        try:
            await store.get(name, writeinto=sink)
        except (ObjectNotFoundError, NotFoundError) as missing:
            cause = missing if isinstance(missing, NotFoundError) else missing.__context__
            if isinstance(cause, NotFoundError) and cause.err_code not in (None, NO_MESSAGE):
                raise
            return False
        return True

    async def discard(self, name: str) -> None:
        store = await bus.staging_store(self.broker)
        try:
            await store.delete(name)
        except (ObjectNotFoundError, NotFoundError):
            pass
