"""A job has exactly one terminal event, whatever races or redeliveries happen (real stack)."""

from __future__ import annotations

import asyncio
import random
import uuid

import pytest

from contracts.events import ConversionFailed, ConversionProgressed, JobCancelled, JobCancelRequested
from services.converter import handlers
from services.runtime.bus import OutcomeTaken
from tests.documents import make_docx
from tests.integration.bus import Log, converter, stored_upload


async def test_two_converters_racing_on_one_job_end_it_once(stack_env, log: Log) -> None:
    async with converter(stack_env) as first, converter(stack_env) as second:
        for _ in range(3):
            upload = stored_upload(stack_env, make_docx)
            await asyncio.gather(
                handlers.on_upload_stored(upload, first), handlers.on_upload_stored(upload, second)
            )
            outcomes = await log.outcomes(upload.job_id)
            assert [o.event_type for o in outcomes] == ["ConversionSucceeded"]


async def test_cancel_racing_success_ends_the_job_once(stack_env, log: Log) -> None:
    seen = set()
    async with converter(stack_env) as worker, converter(stack_env) as canceller:
        for delay in (0.0, 0.3, 0.6, 0.9, 1.5, 3.0):
            upload = stored_upload(stack_env, make_docx)

            async def cancel_later(job_id: str = upload.job_id, wait: float = delay) -> None:
                await asyncio.sleep(wait + random.uniform(0, 0.1))
                await handlers.on_cancel_requested(
                    JobCancelRequested(job_id=job_id, source="test"), canceller
                )

            await asyncio.gather(handlers.on_upload_stored(upload, worker), cancel_later())
            outcomes = [o.event_type for o in await log.outcomes(upload.job_id)]
            assert len(outcomes) == 1 and outcomes[0] in {"ConversionSucceeded", "JobCancelled"}
            types = await log.job_event_types(upload.job_id)
            assert types[-1] == outcomes[0], f"events after the outcome: {types}"
            if outcomes[0] == "JobCancelled":  # the conversion stopped: no success reached the log
                assert "ConversionSucceeded" not in types
            seen.add(outcomes[0])
    assert seen == {"ConversionSucceeded", "JobCancelled"}, f"only saw {seen}: the race was not exercised"


async def test_redelivery_after_finishing_changes_nothing(stack_env, log: Log) -> None:
    """A converter that finished but died before acknowledging: the message comes again."""
    async with converter(stack_env) as worker:
        upload = stored_upload(stack_env, make_docx)
        await handlers.on_upload_stored(upload, worker)
        before = await log.job_event_types(upload.job_id)
        await handlers.on_upload_stored(upload, worker)  # the redelivery
        assert await log.job_event_types(upload.job_id) == before
        assert before[-1] == "ConversionSucceeded" and before.count("ConversionSucceeded") == 1


async def test_nothing_is_stored_after_the_outcome(stack_env, log: Log) -> None:
    """Late events (a progress notification racing a cancel, a retry) are refused by the log."""
    async with converter(stack_env) as worker:
        job_id = str(uuid.uuid4())
        await worker.publish(JobCancelled(job_id=job_id, source="test", requested_by="r1"))
        late = [
            ConversionProgressed(job_id=job_id, source="test", stage="converting", progress=20),
            ConversionFailed(
                job_id=job_id, source="test", code="E205", message="m", recovery="r", stage="converting"
            ),
            JobCancelRequested(job_id=job_id, source="test"),
        ]
        for event in late:
            with pytest.raises(OutcomeTaken):
                await worker.publish(event)
        assert await log.job_event_types(job_id) == ["JobCancelled"]
