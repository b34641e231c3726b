"""The compat layer's outcome watch on the real JetStream: what it reports, the stream holds."""

from __future__ import annotations

import uuid

from faststream.nats import NatsBroker

from contracts.envelope import Envelope
from contracts.events import ConversionFailed, JobCancelled
from contracts.subjects import STREAM, outcome_subject
from runtime import bus
from services.api.compat.outcomes import Outcomes


async def test_an_outcome_seen_live_is_reported_only_as_the_stream_stores_it(broker: NatsBroker) -> None:
    # A core subscriber can see an outcome the stream has not stored (yet, or ever: the stream
    # refuses a second outcome). This one is published so that the stream refuses it; the outcome
    # stored after it is the one the watch must report, and nothing else.
    job_id = str(uuid.uuid4())
    refused = Envelope.wrap(JobCancelled(job_id=job_id, source="test", requested_by="nobody"))
    stored = ConversionFailed(
        job_id=job_id, source="test", code="E205", message="m", recovery="r", stage="converting"
    )
    outcomes = Outcomes(broker)
    async with outcomes.watching([job_id]) as watch:
        await broker.connection.publish(
            outcome_subject(job_id), refused.to_bytes(), headers={"Nats-Expected-Stream": f"NOT-{STREAM}"}
        )
        await bus.publish(broker, stored)
        assert await watch.all_ended(60.0)
    assert watch.outcomes[job_id].event_id == stored.event_id
    assert (await outcomes.outcome(job_id)).event_id == stored.event_id
