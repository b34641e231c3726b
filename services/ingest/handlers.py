"""One function per message: load, decide, emit."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from contracts import errors
from contracts.envelope import Event, derived_event_id
from contracts.events import JobSubmitted, UploadRejected, UploadStored
from services.ingest import domain
from services.ingest.adapters.files import UploadStore
from services.ingest.adapters.staging import Staging

log = logging.getLogger(__name__)
SOURCE = "ingest"


@dataclass
class Deps:
    staging: Staging
    store: UploadStore
    publish: Callable[[Event], Awaitable[int]]


async def on_job_submitted(event: JobSubmitted, deps: Deps) -> None:
    data = await deps.staging.fetch(event.staging_object)
    verdict = domain.Verdict(False, "staged upload not found") if data is None else \
        domain.verify(data, event.sha256, event.size_bytes)
    if not verdict.ok:
        log.warning("upload rejected", extra={"job_id": event.job_id, "reason": verdict.reason})
        await deps.publish(_rejected(event, "E107"))
        return
    path = deps.store.put(domain.content_path(event.sha256, event.filename), data)
    await deps.publish(UploadStored(
        event_id=derived_event_id(event.event_id, "UploadStored"), job_id=event.job_id, source=SOURCE, sha256=event.sha256, size_bytes=event.size_bytes,
        path=str(path), filename=event.filename,
    ))
    await deps.staging.discard(event.staging_object)


def _rejected(event: JobSubmitted, code: str) -> UploadRejected:
    err = errors.get(code)
    return UploadRejected(event_id=derived_event_id(event.event_id, "UploadRejected"),
                          job_id=event.job_id, source=SOURCE, code=code, message=err.message)
