"""The API's side of the bus: stage upload bytes, publish JobSubmitted, see fresh jobs."""

from __future__ import annotations

from faststream.nats import NatsBroker
from nats.js.errors import NotFoundError

from contracts.events import JobSubmitted
from contracts.subjects import STREAM, event_subject
from services.runtime import bus


class Submissions:
    def __init__(self, broker: NatsBroker) -> None:
        self.broker = broker

    async def stage(self, name: str, data: bytes) -> None:
        store = await bus.staging_store(self.broker)
        await store.put(name, data)

    async def submit(self, event: JobSubmitted) -> int:
        return await bus.publish(self.broker, event)

    async def was_submitted(self, job_id: str) -> bool:
        """True once the job's JobSubmitted is in the log, even before any projection saw it."""
        subject = event_subject(job_id, JobSubmitted.event_type)
        try:
            await bus.jetstream(self.broker).get_last_msg(STREAM, subject)
        except NotFoundError:
            return False
        return True
