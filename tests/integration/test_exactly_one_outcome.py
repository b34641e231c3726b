"""A job has exactly one terminal event, whatever races or redeliveries happen (real stack)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Awaitable, Callable

import pytest

from contracts.envelope import Event
from contracts.events import ConversionFailed, ConversionProgressed, JobCancelled, JobCancelRequested
from runtime.bus import OutcomeTaken
from services.converter import handlers
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


def cancelling_at(
    worker: handlers.Deps, moment: str, cancel: Callable[[], Awaitable[None]], *, wait: bool
) -> tuple[handlers.Deps, list[asyncio.Future]]:
    """The worker, with a cancel issued when it is about to publish the event ``moment`` names
    (``Type:stage``): awaited first (the cancel lands before that event, however fast the machine
    is) or started alongside it (a true race); the started task is returned to be awaited."""
    started: list[asyncio.Future] = []

    async def publish(event: Event) -> int:
        if f"{type(event).__name__}:{getattr(event, 'stage', '')}" == moment and not started:
            started.append(asyncio.ensure_future(cancel()))
            if wait:
                await started[0]
        return await worker.publish(event)

    return dataclasses.replace(worker, publish=publish), started


# when the cancel comes, awaited or racing -> the outcome it must give (None: either, but only one)
CANCELS = [
    ("ConversionStarted:", True, "JobCancelled"),
    ("ConversionProgressed:exporting_json", True, "JobCancelled"),
    ("ConversionSucceeded:", True, "JobCancelled"),  # the results are saved; the success is refused
    ("after", True, "ConversionSucceeded"),  # the job has ended: the cancel changes nothing
    ("ConversionStarted:", False, None),
    ("ConversionProgressed:exporting_markdown", False, None),
    ("ConversionSucceeded:", False, None),
]


@pytest.mark.parametrize(("moment", "wait", "expected"), CANCELS)
async def test_cancel_racing_success_ends_the_job_once(
    stack_env, log: Log, moment: str, wait: bool, expected: str | None
) -> None:
    async with converter(stack_env) as worker, converter(stack_env) as canceller:
        upload = stored_upload(stack_env, make_docx)

        async def cancel() -> None:
            await handlers.on_cancel_requested(
                JobCancelRequested(job_id=upload.job_id, source="test"), canceller
            )

        racing, started = cancelling_at(worker, moment, cancel, wait=wait)
        await handlers.on_upload_stored(upload, racing)
        if moment == "after":
            await cancel()
        await asyncio.gather(*started)
        assert started or moment == "after", f"the worker never published {moment}"
    outcomes = [o.event_type for o in await log.outcomes(upload.job_id)]
    assert len(outcomes) == 1 and outcomes[0] in {"ConversionSucceeded", "JobCancelled"}
    assert expected is None or outcomes == [expected]
    types = await log.job_event_types(upload.job_id)
    assert types[-1] == outcomes[0], f"events after the outcome: {types}"
    if outcomes[0] == "JobCancelled":  # the conversion stopped: no success reached the log
        assert "ConversionSucceeded" not in types


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
