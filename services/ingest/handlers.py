"""One function per message: load, decide, emit."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from contracts import errors
from contracts.envelope import Event, derived_event_id
from contracts.events import JobSubmitted, UploadRejected, UploadStored
from runtime.bus import OutcomeTaken
from services.ingest import domain

log = logging.getLogger(__name__)
SOURCE = "ingest"


class Sink(Protocol):
    def write(self, data: bytes, /) -> int: ...


class StagedUploads(Protocol):
    """Where the API leaves upload bytes (adapters.staging: the JetStream object store)."""

    async def fetch_into(self, name: str, sink: Sink) -> bool: ...  # False: no such object
    async def discard(self, name: str) -> None: ...


class Incoming(Sink, Protocol):
    """An upload on its way into the store: hashed and counted as it is written."""

    @property
    def sha256(self) -> str: ...
    @property
    def size(self) -> int: ...
    def keep(self) -> Path: ...


class Uploads(Protocol):
    """Where uploads are kept for the MCP server (adapters.files: ``UPLOAD_DIR``)."""

    def incoming(self, relative: PurePosixPath) -> AbstractContextManager[Incoming]: ...
    def holding(self, relative: PurePosixPath, sha256: str, size_bytes: int) -> Path | None: ...


@dataclass
class Deps:
    staging: StagedUploads
    store: Uploads
    publish: Callable[[Event], Awaitable[int]]
    has_outcome: Callable[[str], Awaitable[bool]]


async def on_job_submitted(event: JobSubmitted, deps: Deps) -> None:
    if await deps.has_outcome(event.job_id):  # cancelled while queued: nothing to store
        await deps.staging.discard(event.staging_object)
        return
    relative = domain.content_path(event.sha256, event.filename)
    with deps.store.incoming(relative) as incoming:  # streamed: never whole in memory
        found = await deps.staging.fetch_into(event.staging_object, incoming)
        kept = deps.store.holding(relative, event.sha256, event.size_bytes) if not found else None
        if kept is not None:
            # a redelivery: an earlier delivery stored these bytes and dropped the staged copy,
            # but its acknowledgement was lost (a NATS node died); announce the stored file again
            # (the derived event id makes a second announcement a duplicate the stream drops)
            log.info("upload already stored; announcing it again", extra={"job_id": event.job_id})
            path = kept
        else:
            verdict = (
                domain.verify(incoming.sha256, incoming.size, event.sha256, event.size_bytes)
                if found
                else domain.Verdict(False, "staged upload not found")
            )
            if not verdict.ok:
                log.warning("upload rejected", extra={"job_id": event.job_id, "reason": verdict.reason})
                await _reject(event, "E107", deps)
                return
            path = incoming.keep()
    try:
        await deps.publish(
            UploadStored(
                event_id=derived_event_id(event.event_id, UploadStored.event_type),
                job_id=event.job_id,
                source=SOURCE,
                sha256=event.sha256,
                size_bytes=event.size_bytes,
                path=str(path),
                filename=event.filename,
                formats=event.formats,
                owner=event.owner,
            )
        )
    except OutcomeTaken:  # cancelled meanwhile: the stored file is harmless (content-addressed)
        log.info("job ended while storing", extra={"job_id": event.job_id})
    await deps.staging.discard(event.staging_object)


async def give_up(event: JobSubmitted, deps: Deps) -> None:
    """The message failed every delivery: end the job rather than leave it stuck."""
    await _reject(event, "E501", deps)


async def _reject(event: JobSubmitted, code: str, deps: Deps) -> None:
    try:
        await deps.publish(
            UploadRejected(
                event_id=derived_event_id(event.event_id, UploadRejected.event_type),
                job_id=event.job_id,
                source=SOURCE,
                code=code,
                message=errors.get(code).message,
            )
        )
    except OutcomeTaken:
        log.info("job already ended", extra={"job_id": event.job_id})
