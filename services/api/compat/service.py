"""What a docling-serve request does on our pipeline: submit jobs, know a task's deps, gather results.

Each document is an ordinary job (``JobSubmitted`` with the caller's owner); the answer is built
from the job's outcome event and its stored results. See CLAUDE.md, "docling-serve compatibility".
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import anyio

from contracts.envelope import Envelope
from contracts.events import ConversionSucceeded, JobSubmitted
from contracts.formats import INPUT_TYPES, extension_of
from services.api.adapters.upload_stream import Received
from services.api.compat import models, render
from services.api.compat.options import CompatError
from services.api.deps import Deps


@dataclass(frozen=True)
class Document:
    """One document's part of an answer."""

    filename: str
    status: models.ConversionStatus
    contents: dict[str, str] = field(default_factory=dict)  # docling-serve format -> text
    errors: tuple[str, ...] = ()
    seconds: float = 0.0

    def response(self, processing_time: float) -> models.ConvertDocumentResponse:
        return models.ConvertDocumentResponse(
            document=models.ExportDocumentResponse(
                filename=self.filename, **render.document_fields(self.contents)
            ),
            status=self.status,
            errors=[models.ErrorItem(error_message=e) for e in self.errors],
            processing_time=processing_time,
        )


def new_ids(count: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(count)]


async def submit(
    deps: Deps, owner: str, job_ids: list[str], files: list[Received], formats: tuple[str, ...]
) -> None:
    """Stage and submit one job per upload, under the given job ids; each job produces only the
    stored formats that docling-serve's ``formats`` need."""
    stored = render.stored_for(formats)
    for job_id, received in zip(job_ids, files, strict=True):
        filename, size, sha256 = received.filename, received.size, received.sha256
        await deps.submissions.stage(job_id, received.file)
        await deps.submissions.submit(
            JobSubmitted(
                job_id=job_id,
                source="api-compat",
                filename=filename,
                content_type=INPUT_TYPES[extension_of(filename)],
                size_bytes=size,
                sha256=sha256,
                staging_object=job_id,
                owner=owner,
                formats=stored,
            )
        )


async def document(deps: Deps, filename: str, outcome: Envelope, formats: tuple[str, ...]) -> Document:
    """The answer for one ended job: its results in ``formats``, or why there are none."""
    if outcome.event_type != ConversionSucceeded.event_type:
        data = outcome.data
        message = " ".join(p for p in (data.get("code"), data.get("message"), data.get("recovery")) if p)
        return Document(filename, "failure", errors=(message or f"The job ended: {outcome.event_type}.",))
    stored = await deps.read_model.results(outcome.job_id, render.stored_for(formats))
    contents: dict[str, str] = {}
    for fmt in formats:
        source = render.STORED[fmt]
        if source is not None:
            contents[fmt] = stored[source]
        else:
            contents[fmt] = await anyio.to_thread.run_sync(render.exported, stored["json"], fmt)
    seconds = outcome.data.get("duration_ms", 0) / 1000
    return Document(filename, "success", contents, seconds=seconds)


def task_status(
    task_id: str,
    job_ids: list[str],
    outcomes: dict[str, Envelope],
    started: bool,
    task_type: models.TaskType = "convert",
) -> models.TaskStatusResponse:
    """A task's state from its jobs' outcomes (success once every job ended and one succeeded)."""
    succeeded = sum(o.event_type == ConversionSucceeded.event_type for o in outcomes.values())
    failed = len(outcomes) - succeeded
    meta = models.TaskProcessingMeta(
        num_docs=len(job_ids), num_processed=len(outcomes), num_succeeded=succeeded, num_failed=failed
    )
    status: models.ConversionStatus = "started" if started or outcomes else "pending"
    error = None
    if len(outcomes) == len(job_ids):
        status = "success" if succeeded else "failure"
        if not succeeded:
            first = next(iter(outcomes.values())).data
            error = " ".join(p for p in (first.get("code"), first.get("message")) if p) or None
    return models.TaskStatusResponse(
        task_id=task_id,
        task_type=task_type,
        task_status=status,
        task_position=None if status != "pending" else 0,
        task_meta=meta,
        error_message=error,
    )


def fail_unless_supported_target(kind: str) -> None:
    if kind == "presigned_url":
        raise CompatError(
            422, "Presigned URL target requires artifact storage to be configured and enabled on the server."
        )
    if kind not in ("inbody", "zip"):
        raise CompatError(400, f"Target kind '{kind}' is not supported by docling-jobs; use inbody or zip.")


def elapsed(since: float) -> float:
    return round(time.monotonic() - since, 4)
