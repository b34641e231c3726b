"""One function per message: load, decide, emit."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from contracts import errors
from contracts.envelope import Event, derived_event_id
from contracts.events import (
    ConversionDeferred,
    ConversionFailed,
    ConversionProgressed,
    ConversionStarted,
    ConversionSucceeded,
    JobCancelled,
    JobCancelRequested,
    UploadStored,
)
from runtime.bus import NotYet, OutcomeTaken, kept_alive
from services.converter import domain, metrics
from services.converter.adapters.render import html_from_json
from services.converter.breaker import Admission
from services.converter.checkpoint_format import FORMATS, Checkpoint
from services.converter.domain import Patience
from services.converter.naming import named

log = logging.getLogger(__name__)
SOURCE = "converter"


class McpSession(Protocol):
    """One MCP session's tool calls (``adapters.mcp.DoclingSession``)."""

    exports_content: bool  # the project's own server: HTML and JSON come back as content

    async def convert(self, source: str, progress: domain.Progress | None = None) -> str: ...
    async def markdown(self, key: str) -> str: ...
    async def html(self, key: str) -> str: ...
    async def json(self, key: str) -> str: ...
    async def save(self, key: str) -> dict: ...


class Results(Protocol):
    """Where the finished outputs go (``adapters.results.ResultStore``)."""

    async def save(self, job_id: str, outputs: dict[str, str]) -> dict[str, str]: ...


class Circuit(Protocol):
    async def admit(self) -> Admission: ...
    async def failed(self, code: str) -> None: ...


class Checkpoints(Protocol):
    async def load(self, job_id: str) -> Checkpoint | None: ...
    async def save(self, job_id: str, checkpoint: Checkpoint) -> None: ...
    async def clear(self, job_id: str) -> bool: ...


class Shares(Protocol):
    """Each owner's share of the conversions in progress (``adapters.shares.OwnerShares``)."""

    lease_s: float

    async def take(self, owner: str, job_id: str) -> int: ...  # 0: go on; n: the job's n-th wait
    async def renew(self, owner: str, job_id: str) -> None: ...
    async def release(self, owner: str, job_id: str) -> None: ...


class Unshared:
    """No per-owner limit: every job starts at once."""

    lease_s = 30.0

    async def take(self, owner: str, job_id: str) -> int:
        return 0

    async def renew(self, owner: str, job_id: str) -> None:
        return None

    async def release(self, owner: str, job_id: str) -> None:
        return None


@dataclass
class Deps:
    open_session: Callable[[], AbstractAsyncContextManager[McpSession]]
    read_saved_json: Callable[[dict], Awaitable[str]]
    results: Results
    publish: Callable[[Event], Awaitable[int]]
    server_url: str
    circuit: Circuit
    checkpoints: Checkpoints
    has_outcome: Callable[[str], Awaitable[bool]]
    patience: Patience = field(default_factory=Patience)
    progress_interval_s: float = domain.PROGRESS_INTERVAL_S
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    shares: Shares = field(default_factory=Unshared)
    owner_wait_s: float = domain.OWNER_WAIT_S


class Job:
    """One conversion in flight: its cause, checkpoint, current stage, and how it reports."""

    def __init__(self, cause: UploadStored, deps: Deps) -> None:
        self.cause, self.deps, self.stage, self.shown = cause, deps, "converting", 0
        self.checkpoint = Checkpoint.start(
            int(deps.clock() * 1000), f"sha256:{cause.sha256}", str(uuid.uuid4())
        )
        self.attempts = 0  # attempts the server failed (each one counted by the circuit)
        self.waiting_since: float | None = None  # set while the job waits for the server
        self.periods = 0  # waiting periods so far: each announced by one ConversionDeferred
        self.stage_started = time.monotonic()
        self.progress_due = 0.0  # no progress event from a server notification before this time
        self.fetched: dict[tuple[str, str], str] = {}  # (key, format) -> an export not recorded yet

    @property
    def job_id(self) -> str:
        return self.cause.job_id

    def ids(self, what: str) -> dict:
        return {
            "event_id": derived_event_id(self.cause.event_id, what),
            "job_id": self.cause.job_id,
            "source": SOURCE,
        }

    def resume_from(self, checkpoint: Checkpoint) -> None:
        self.checkpoint = checkpoint
        self.shown = checkpoint.progress
        self.stage = _stage_after(checkpoint.stage)

    def converting_from(self, now: float) -> None:
        """The conversion call starts: notifications become events once it has run a while, so a
        short conversion adds no events (each costs every service downstream) but its stage's own."""
        self.progress_due = now + self.deps.progress_interval_s

    async def converting(self, value: float, total: float | None) -> None:
        """A progress notification from the server during the conversion itself."""
        progress = domain.converting_progress(value, total)
        now = self.deps.clock()
        if progress is not None and progress > self.shown and now >= self.progress_due:
            self.shown, self.progress_due = progress, now + self.deps.progress_interval_s
            try:
                await self.deps.publish(
                    ConversionProgressed(
                        **self.ids(f"ConversionProgressed:converting:{progress}"),
                        stage="converting",
                        progress=progress,
                    )
                )
            except OutcomeTaken:  # ended elsewhere; the next stage boundary stops the job
                pass

    async def finished(self, stage: str, checkpoint: Checkpoint) -> None:
        """A stage is done: checkpoint it, then report it (``OutcomeTaken`` once the job has ended)."""
        self.checkpoint = checkpoint
        await self.deps.checkpoints.save(self.job_id, checkpoint)
        self.waiting_since = None
        progress = domain.STAGE_PROGRESS[stage]
        self.shown = max(self.shown, progress)
        self.stage_started = metrics.stage_done(stage, self.stage_started)
        await self.deps.publish(
            ConversionProgressed(**self.ids(f"ConversionProgressed:{stage}"), stage=stage, progress=progress)
        )
        self.stage = _stage_after(stage)

    async def defer(self, code: str, reason: str, retry_at: float) -> None:
        """Start waiting for the server; the first wait of a period is announced on the stream."""
        if self.waiting_since is not None:
            return
        self.waiting_since = self.deps.clock()
        self.periods += 1
        log.info(
            "job deferred", extra={"job_id": self.job_id, "code": code, "reason": reason, "stage": self.stage}
        )
        await self.deps.publish(
            ConversionDeferred(
                **self.ids(f"ConversionDeferred:{self.periods}"),
                code=code,
                message=errors.get(code).message,
                reason=reason,
                retry_at=datetime.fromtimestamp(retry_at, UTC),
                stage=self.stage,
            )
        )

    def out_of_patience(self) -> bool:
        since = self.waiting_since
        return since is not None and self.deps.clock() - since >= self.deps.patience.defer_limit_s

    async def pause(self, until: float) -> None:
        """Wait until ``until``, at most one poll interval; a job ended meanwhile stops here."""
        delay = min(self.deps.patience.poll_s, max(0.0, until - self.deps.clock()))
        await self.deps.sleep(delay)
        if await self.deps.has_outcome(self.job_id):
            raise OutcomeTaken(self.job_id)


def _stage_after(stage: str) -> str:
    """The stage a job works on once ``stage`` has finished."""
    if stage == "started":
        return "converting"
    progress = domain.STAGE_PROGRESS[stage]
    return next((s for s in domain.STAGE_PROGRESS if domain.STAGE_PROGRESS[s] > progress), "storing_results")


async def on_upload_stored(event: UploadStored, deps: Deps) -> None:
    """Convert under a lease of the owner's share (renewed while the job runs, released however
    it ends); while the owner's other conversions use the share, the job waits (``NotYet``)."""
    waited = await deps.shares.take(event.owner, event.job_id)
    if waited:
        await _wait_for_share(event, deps, first=waited == 1)
        return
    try:
        async with kept_alive(lambda: deps.shares.renew(event.owner, event.job_id), deps.shares.lease_s / 3):
            await _convert_job(event, deps)
    finally:
        await deps.shares.release(event.owner, event.job_id)


async def _wait_for_share(event: UploadStored, deps: Deps, first: bool) -> None:
    """Put the job back for a while (not an attempt: nothing failed); its first wait is announced
    by a ``ConversionDeferred`` (reason ``owner_busy``). A job ended meanwhile stops waiting."""
    if await deps.has_outcome(event.job_id):
        return
    if first:
        log.info("job waits for its owner's share", extra={"job_id": event.job_id})
        try:
            await deps.publish(
                ConversionDeferred(
                    event_id=derived_event_id(event.event_id, "ConversionDeferred:owner_busy"),
                    job_id=event.job_id,
                    source=SOURCE,
                    code="E118",
                    message=errors.get("E118").message,
                    reason="owner_busy",
                    retry_at=datetime.fromtimestamp(deps.clock() + deps.owner_wait_s, UTC),
                    stage="stored",
                )
            )
        except OutcomeTaken:
            return
    raise NotYet(deps.owner_wait_s)


async def _convert_job(event: UploadStored, deps: Deps) -> None:
    """Convert, resuming from the job's checkpoint if it has one, unless the job has ended: then the
    log refuses its next event and the work stops there."""
    job, started = Job(event, deps), time.monotonic()
    try:
        checkpoint = await deps.checkpoints.load(event.job_id)
        if (
            checkpoint is not None
            and checkpoint.metadata.get("fileHash") == job.checkpoint.metadata["fileHash"]
        ):
            job.resume_from(checkpoint)
            log.info("resuming from checkpoint", extra={"job_id": event.job_id, "stage": checkpoint.stage})
        else:
            await deps.publish(
                ConversionStarted(**job.ids(ConversionStarted.event_type), mcp_server=deps.server_url)
            )
        outputs = await _run(job)
        if outputs is None:
            return
        outputs = named(outputs, event.filename)  # not the sha256 the MCP server read the upload as
        hashes = await deps.results.save(event.job_id, outputs)
        await deps.publish(
            ConversionSucceeded(
                **job.ids(ConversionSucceeded.event_type),
                formats=sorted(outputs),
                result_sha256=hashes,
                duration_ms=int((time.monotonic() - started) * 1000),
            )
        )
        await deps.checkpoints.clear(event.job_id)
    except OutcomeTaken:
        log.info("job ended elsewhere; stopped", extra={"job_id": event.job_id, "stage": job.stage})


async def _run(job: Job) -> dict[str, str] | None:
    """The outputs, or None when the conversion failed (and the failure was reported).

    A failure that signals a sick server is counted by the circuit and the job waits (announced by
    one ``ConversionDeferred``) and tries again, from its checkpoint, until the circuit lets it.
    """
    deps, patience = job.deps, job.deps.patience
    while True:
        admission = await deps.circuit.admit()
        if admission.waits:
            code = admission.code or "E206"
            if job.out_of_patience():
                await _fail(job, domain.failure_of_code(code), "the MCP server stayed unavailable")
                return None
            retry_at = admission.retry_at or deps.clock()
            await job.defer(code, "circuit_open", retry_at)
            await job.pause(retry_at)
            continue
        try:
            async with deps.open_session() as mcp:
                return await _convert(job, mcp)
        except domain.ServerBusy as error:  # queued at the server: no attempt, nothing counted
            if job.out_of_patience():
                await _fail(job, domain.failure_of(error), error.detail)
                return None
            await _retry_later(job, error.code, "server_busy")
        except domain.ConversionError as error:
            if not error.trips:
                await _fail(job, domain.failure_of(error), error.detail)
                return None
            job.attempts += 1
            await deps.circuit.failed(error.code)
            log.warning(
                "MCP server failed",
                extra={
                    "job_id": job.job_id,
                    "code": error.code,
                    "attempt": job.attempts,
                    "detail": error.detail,
                },
            )
            if job.attempts >= patience.max_attempts or job.out_of_patience():
                await _fail(job, domain.failure_of(error), f"{error.detail} (attempt {job.attempts})")
                return None
            await _retry_later(job, error.code, "server_failure")


async def _retry_later(job: Job, code: str, reason: str) -> None:
    """Wait ``CONVERTER_RETRY_DELAY_S`` (the first wait of a period announced), then go on."""
    retry_at = job.deps.clock() + job.deps.patience.retry_delay_s
    await job.defer(code, reason, retry_at)
    while job.deps.clock() < retry_at:
        await job.pause(retry_at)


async def _convert(job: Job, mcp: McpSession) -> dict[str, str]:
    """Run the stages the checkpoint has not recorded yet."""
    key, fresh = job.checkpoint.document_key, False
    if key is None:
        job.converting_from(job.deps.clock())
        key, fresh = await mcp.convert(job.cause.path, progress=job.converting), True
        await job.finished(
            "converting", job.checkpoint.converted(key, domain.STAGE_PROGRESS["converting"], _now_ms(job))
        )
    while todo := [e for e in _exports(job, mcp) if job.checkpoint.partial.get(e[1]) is None]:
        try:
            await _export(job, key, todo, together=mcp.exports_content)
        except domain.ToolFailed:
            if fresh:
                raise
            # the key came from a checkpoint and the server no longer holds it (it restarted):
            # convert once more; the exports already made are kept
            key, fresh = await mcp.convert(job.cause.path), True
            job.checkpoint = job.checkpoint.reconverted(key)
    return {fmt: job.checkpoint.partial[fmt] for fmt in FORMATS if fmt in job.cause.formats}


async def _export(
    job: Job, key: str, todo: list[tuple[str, str, Callable[[str], Awaitable[str]]]], together: bool
) -> None:
    """Each export's stage checkpointed and reported in stage order. ``together``: the exports are
    independent (the project's own server answers each from the converted document), so all are
    asked at once and each stage is recorded as soon as it and the ones before it are in; an export
    that came back while an earlier one failed is kept for the next attempt (same key)."""

    async def fetch(fmt: str, export: Callable[[str], Awaitable[str]]) -> str:
        if (key, fmt) not in job.fetched:
            job.fetched[(key, fmt)] = await export(key)
        return job.fetched[(key, fmt)]

    asked = [asyncio.ensure_future(fetch(fmt, export)) for _, fmt, export in todo] if together else []
    try:
        for n, (stage, fmt, export) in enumerate(todo):
            text = await (asked[n] if together else export(key))
            await job.finished(
                stage, job.checkpoint.exported(stage, fmt, text, domain.STAGE_PROGRESS[stage], _now_ms(job))
            )
            job.fetched.pop((key, fmt), None)
    finally:
        for pending in asked:
            pending.cancel()
        await asyncio.gather(*asked, return_exceptions=True)


def _now_ms(job: Job) -> int:
    return int(job.deps.clock() * 1000)


def _exports(job: Job, mcp: McpSession) -> list[tuple[str, str, Callable[[str], Awaitable[str]]]]:
    """The exports the job asks for (its ``formats``), in stage order."""
    wanted = set(job.cause.formats)
    if mcp.exports_content:  # the project's own server: everything comes back as content
        return _in_stage_order({"markdown": mcp.markdown, "json": mcp.json, "html": mcp.html}, wanted)

    async def saved_json(key: str) -> str:  # the official server: JSON saved to its disk
        return await job.deps.read_saved_json(await mcp.save(key))

    async def rendered_html(key: str) -> str:  # ... and HTML rendered here from that JSON
        return await html_from_json(job.checkpoint.partial["json"])

    if "html" in wanted:  # rendered from the JSON
        wanted.add("json")
    return _in_stage_order({"markdown": mcp.markdown, "json": saved_json, "html": rendered_html}, wanted)


def _in_stage_order(
    exporters: dict[str, Callable[[str], Awaitable[str]]], wanted: set[str]
) -> list[tuple[str, str, Callable[[str], Awaitable[str]]]]:
    """(stage, format, exporter) for each wanted format, in the order the export stages run."""
    return [(stage, fmt, exporters[fmt]) for fmt, stage in domain.EXPORT_STAGES.items() if fmt in wanted]


async def _fail(job: Job, failure: domain.Failure, detail: str) -> None:
    log.warning(
        "conversion failed",
        extra={"job_id": job.cause.job_id, "code": failure.code, "stage": job.stage, "detail": detail},
    )
    await job.deps.publish(
        ConversionFailed(
            **job.ids(ConversionFailed.event_type),
            code=failure.code,
            message=failure.message,
            recovery=failure.recovery,
            stage=job.stage,
        )
    )


async def give_up(event: UploadStored, deps: Deps) -> None:
    """The message failed every delivery: end the job rather than leave it stuck."""
    entry = errors.get("E501")
    await _fail(
        Job(event, deps),
        domain.Failure(entry.code, entry.message, entry.recovery),
        "failed on every delivery",
    )


async def on_cancel_requested(event: JobCancelRequested, deps: Deps) -> None:
    """End the job as cancelled, unless it already has an outcome (then nothing happens)."""
    try:
        await deps.publish(
            JobCancelled(
                event_id=derived_event_id(event.event_id, JobCancelled.event_type),
                job_id=event.job_id,
                source=SOURCE,
                requested_by=event.event_id,
            )
        )
    except OutcomeTaken:
        log.info("cancel came after the outcome", extra={"job_id": event.job_id})
