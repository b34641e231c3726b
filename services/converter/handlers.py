"""One function per message: load, decide, emit."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from contracts import errors
from contracts.envelope import Event, derived_event_id
from contracts.events import (
    ConversionFailed,
    ConversionProgressed,
    ConversionStarted,
    ConversionSucceeded,
    JobCancelled,
    JobCancelRequested,
    UploadStored,
)
from services.converter import domain, metrics
from services.converter.adapters.mcp import DoclingSession
from services.converter.adapters.render import html_from_json
from services.converter.adapters.results import ResultStore
from services.runtime.bus import OutcomeTaken

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
        self.cause, self.deps, self.stage, self.shown = cause, deps, "converting", 0
        self.stage_started = time.monotonic()

    def ids(self, what: str) -> dict:
        return {"event_id": derived_event_id(self.cause.event_id, what),
                "job_id": self.cause.job_id, "source": SOURCE}

    async def converting(self, value: float, total: float | None) -> None:
        """A progress notification from the server during the conversion itself."""
        progress = domain.converting_progress(value, total)
        if progress is not None and progress > self.shown:
            self.shown = progress
            try:
                await self.deps.publish(ConversionProgressed(
                    **self.ids(f"ConversionProgressed:converting:{progress}"), stage="converting",
                    progress=progress))
            except OutcomeTaken:  # ended elsewhere; the next stage boundary stops the job
                pass

    async def finished(self, stage: str) -> None:
        """Report a finished stage; raises ``OutcomeTaken`` once the job has ended elsewhere."""
        progress = domain.STAGE_PROGRESS[stage]
        self.stage_started = metrics.stage_done(stage, self.stage_started)
        await self.deps.publish(ConversionProgressed(
            **self.ids(f"ConversionProgressed:{stage}"), stage=stage, progress=progress))
        self.stage = next((s for s in domain.STAGE_PROGRESS if domain.STAGE_PROGRESS[s] > progress),
                          "storing_results")


async def on_upload_stored(event: UploadStored, deps: Deps) -> None:
    """Convert, unless the job has ended: then the log refuses its next event and the work stops
    there (before the MCP server is called, or at the next stage boundary)."""
    job, started = Job(event, deps), time.monotonic()
    try:
        await deps.publish(ConversionStarted(**job.ids("ConversionStarted"), mcp_server=deps.server_url))
        outputs = await _run(job)
        if outputs is None:
            return
        hashes = await deps.results.save(event.job_id, outputs)
        await deps.publish(ConversionSucceeded(
            **job.ids("ConversionSucceeded"), formats=sorted(outputs), result_sha256=hashes,
            duration_ms=int((time.monotonic() - started) * 1000)))
    except OutcomeTaken:
        log.info("job ended elsewhere; stopped", extra={"job_id": event.job_id, "stage": job.stage})


async def _run(job: Job) -> dict[str, str] | None:
    """The outputs, or None when the conversion failed (and the failure was reported)."""
    try:
        async with job.deps.open_session() as mcp:
            return await _convert(job, mcp)
    except domain.ConversionError as error:
        await _fail(job, domain.failure_of(error), error.detail)
        return None


async def _convert(job: Job, mcp: DoclingSession) -> dict[str, str]:
    key = await mcp.convert(job.cause.path, progress=job.converting)
    await job.finished("converting")
    markdown = await mcp.markdown(key)
    await job.finished("exporting_markdown")
    if mcp.exports_content:  # the project's own server: everything comes back as content
        document_json = await mcp.json(key)
        await job.finished("exporting_json")
        html = await mcp.html(key)
    else:  # the official server: JSON saved to its disk, HTML rendered here from it
        document_json = await job.deps.read_saved_json(await mcp.save(key))
        await job.finished("exporting_json")
        html = await html_from_json(document_json)
    await job.finished("exporting_html")
    return {"markdown": markdown, "json": document_json, "html": html}


async def _fail(job: Job, failure: domain.Failure, detail: str) -> None:
    log.warning("conversion failed", extra={"job_id": job.cause.job_id, "code": failure.code,
                                            "stage": job.stage, "detail": detail})
    await job.deps.publish(ConversionFailed(
        **job.ids("ConversionFailed"), code=failure.code, message=failure.message,
        recovery=failure.recovery, stage=job.stage))


async def give_up(event: UploadStored, deps: Deps) -> None:
    """The message failed every delivery: end the job rather than leave it stuck."""
    entry = errors.get("E501")
    await _fail(Job(event, deps), domain.Failure(entry.code, entry.message, entry.recovery),
                "failed on every delivery")


async def on_cancel_requested(event: JobCancelRequested, deps: Deps) -> None:
    """End the job as cancelled, unless it already has an outcome (then nothing happens)."""
    try:
        await deps.publish(JobCancelled(
            event_id=derived_event_id(event.event_id, "JobCancelled"), job_id=event.job_id,
            source=SOURCE, requested_by=event.event_id))
    except OutcomeTaken:
        log.info("cancel came after the outcome", extra={"job_id": event.job_id})
