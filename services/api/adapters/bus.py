"""The API's side of the bus: stage upload bytes, publish JobSubmitted, see fresh jobs."""

from __future__ import annotations

from typing import BinaryIO

from faststream.nats import NatsBroker
from nats.errors import ConnectionReconnectingError
from nats.js.errors import NotFoundError

from contracts.envelope import Envelope
from contracts.events import JobSubmitted, decode
from contracts.subjects import STREAM, event_subject
from runtime import bus


class Submissions:
    def __init__(self, broker: NatsBroker) -> None:
        self.broker = broker

    def _connected(self) -> None:
        """Refuse at once while NATS is away: nats-py would buffer the write and send it on
        reconnection, long after the client was told 503, so the job would appear unasked."""
        if bus.link(self.broker).up is not True:
            raise ConnectionReconnectingError

    async def stage(self, name: str, data: bytes | BinaryIO) -> None:
        """Copy the upload into the staging bucket, chunk by chunk when given a file."""
        self._connected()
        store = await bus.staging_store(self.broker)
        await store.put(name, data)

    async def submit(self, event: JobSubmitted) -> int:
        self._connected()
        return await bus.publish(self.broker, event)

    async def owner_of(self, job_id: str) -> str | None:
        """The owner in the job's JobSubmitted once it is in the log, even before any projection
        saw it; None when there is no such job."""
        subject = event_subject(job_id, JobSubmitted.event_type)
        try:
            message = await bus.jetstream(self.broker).get_last_msg(STREAM, subject)
        except NotFoundError:
            return None
        return decode(Envelope.from_bytes(message.data)).owner
