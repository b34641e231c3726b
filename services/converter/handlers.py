"""One function per message: load, decide, emit."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from contracts.envelope import Event, derived_event_id
from contracts.events import (
    ConversionFailed,
    ConversionProgressed,
    ConversionStarted,
    ConversionSucceeded,
    UploadStored,
)
from services.converter import domain
from services.converter.adapters.mcp import DoclingSession
from services.converter.adapters.render import html_from_json
from services.converter.adapters.results import ResultStore

log = logging.getLogger(__name__)
SOURCE = "converter"


@dataclass
class Deps:
    open_session: Callable[[], AbstractAsyncContextManager[DoclingSession]]
    read_saved_json: Callable[[dict], Awaitable[str]]
    results: ResultStore
    publish: Callable[[Event], Awaitable[int]]
    server_url: str


class Job:
    """One conversion in flight: knows its cause, its current stage, and how to report."""

    def __init__(self, cause: UploadStored, deps: Deps) -> None:
        self.cause, self.deps, self.stage = cause, deps, "converting"

    def ids(self, what: str) -> dict:
        return {"event_id": derived_event_id(self.cause.event_id, what),
                "job_id": self.cause.job_id, "source": SOURCE}

    async def finished(self, stage: str) -> None:
        progress = domain.STAGE_PROGRESS[stage]
        await self.deps.publish(ConversionProgressed(
            **self.ids(f"ConversionProgressed:{stage}"), stage=stage, progress=progress))
        self.stage = next((s for s in domain.STAGE_PROGRESS if domain.STAGE_PROGRESS[s] > progress),
                          "storing_results")


async def on_upload_stored(event: UploadStored, deps: Deps) -> None:
    job, started = Job(event, deps), time.monotonic()
    await deps.publish(ConversionStarted(**job.ids("ConversionStarted"), mcp_server=deps.server_url))
    try:
        async with deps.open_session() as mcp:
            outputs = await _convert(job, mcp)
    except domain.ConversionError as error:
        await _fail(job, error)
        return
    hashes = await deps.results.save(event.job_id, outputs)
    await deps.publish(ConversionSucceeded(
        **job.ids("ConversionSucceeded"), formats=sorted(outputs), result_sha256=hashes,
        duration_ms=int((time.monotonic() - started) * 1000)))


async def _convert(job: Job, mcp: DoclingSession) -> dict[str, str]:
    key = await mcp.convert(job.cause.path)
    await job.finished("converting")
    markdown = await mcp.markdown(key)
    await job.finished("exporting_markdown")
    document_json = await job.deps.read_saved_json(await mcp.save(key))
    await job.finished("exporting_json")
    html = await html_from_json(document_json)
    await job.finished("exporting_html")
    return {"markdown": markdown, "json": document_json, "html": html}


async def _fail(job: Job, error: domain.ConversionError) -> None:
    failure = domain.failure_of(error)
    log.warning("conversion failed", extra={"job_id": job.cause.job_id, "code": failure.code,
                                            "stage": job.stage, "detail": error.detail})
    await job.deps.publish(ConversionFailed(
        **job.ids("ConversionFailed"), code=failure.code, message=failure.message,
        recovery=failure.recovery, stage=job.stage))
