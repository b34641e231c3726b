"""One controller per resource."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Annotated, Literal

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import ServerSentEvent
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from contracts.events import JobCancelRequested, JobSubmitted
from contracts.formats import INPUT_TYPES, OUTPUT_TYPES, extension_of
from contracts.statuses import TERMINAL_STATUSES
from services.api import domain, views
from services.api.metrics import counted_stream
from services.api.problems import Problem
from services.api.streams import JobStream, missed
from services.runtime.bus import OutcomeTaken


@dataclass
class UploadForm:
    file: UploadFile


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/event-stream" not in accept


async def load_job(state: State, job_id: str) -> views.JobView:
    row = await state.read_model.job(job_id)
    if row is not None:
        return views.from_row(row)
    if await state.submissions.was_submitted(job_id):
        return views.submitted(job_id)
    raise Problem("E104")


class JobController(Controller):
    path = views.PREFIX
    tags = ["jobs"]

    @post("/", operation_id="submitJob", status_code=HTTP_202_ACCEPTED,
          summary="Upload a document to convert")
    async def submit(
        self, state: State,
        data: Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[views.JobView]:
        filename = domain.clean_filename(data.file.filename)
        content = await data.file.read()
        code = domain.upload_problem(filename, len(content), state.settings.max_file_size_bytes)
        if code:
            raise Problem(code)
        job_id = str(uuid.uuid4())
        await state.submissions.stage(job_id, content)
        await state.submissions.submit(JobSubmitted(
            job_id=job_id, source="api", filename=filename,
            content_type=INPUT_TYPES[extension_of(filename)], size_bytes=len(content),
            sha256=hashlib.sha256(content).hexdigest(), staging_object=job_id,
        ))
        view = views.submitted(job_id, filename, len(content))
        return Response(view, status_code=HTTP_202_ACCEPTED, headers={"Location": view.links.self})

    @get("/{job_id:uuid}", operation_id="getJob", summary="The job's current state")
    async def status(self, state: State, job_id: uuid.UUID) -> views.JobView:
        return await load_job(state, str(job_id))

    @get("/{job_id:uuid}/events", operation_id="streamJobEvents",
         summary="The job's events: Server-Sent Events resumable with Last-Event-ID, or a JSON page "
                 "of the events after ?after= when the client accepts application/json")
    async def events(
        self, request: Request, state: State, job_id: uuid.UUID,
        last_event_id: Annotated[str | None, Parameter(header="Last-Event-ID")] = None,
        after: Annotated[str | None, Parameter(query="after")] = None,
    ) -> ServerSentEvent | Response:
        since = domain.parse_last_event_id(last_event_id if last_event_id is not None else after)
        if since is None:
            raise Problem("E100", "Last-Event-ID (or after) must be the non-negative integer id of an event.")
        if wants_json(request):
            # events first, then the state: the state is then at least as new as the events, so a
            # page never pairs the terminal event with an older state
            history = await missed(state.feed, state.read_model, str(job_id), since)
            items = [views.EventItem(id=e.id, event=e.event, data=e.data) for e in history.entries]
            return Response(views.EventPage(events=items, job=await load_job(state, str(job_id))))
        job = await load_job(state, str(job_id))
        if job.status in TERMINAL_STATUSES and since >= job.last_event_id:
            return Response(None, status_code=HTTP_204_NO_CONTENT)
        stream = JobStream(str(job_id), since, state.feed, state.read_model,
                           state.settings.sse_heartbeat_s, state.settings.sse_retry_ms,
                           job.model_dump(mode="json"))
        return ServerSentEvent(counted_stream(stream.messages()),
                               headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @delete("/{job_id:uuid}", operation_id="cancelJob", status_code=HTTP_202_ACCEPTED,
            summary="Ask to cancel a job; it ends as cancelled unless it ends otherwise first")
    async def cancel(self, state: State, job_id: uuid.UUID) -> Response[views.JobView]:
        job = await load_job(state, str(job_id))
        if job.status in TERMINAL_STATUSES:
            raise Problem("E108")
        try:
            await state.submissions.submit(JobCancelRequested(job_id=str(job_id), source="api"))
        except OutcomeTaken as ended:  # it ended between the look and the request
            raise Problem("E108") from ended
        return Response(job, status_code=HTTP_202_ACCEPTED)

    @get("/{job_id:uuid}/result", operation_id="getJobResult", summary="The converted document",
         media_type="text/plain")
    async def result(
        self, state: State, job_id: uuid.UUID,
        format: Literal["markdown", "html", "json"] = "markdown",  # noqa: A002 - the public name
    ) -> Response[str]:
        job = await load_job(state, str(job_id))
        if job.status != "succeeded":
            raise Problem("E106" if job.status in TERMINAL_STATUSES else "E105")
        content = await state.read_model.result(str(job_id), format)
        if content is None:
            raise Problem("E106")
        return Response(content, media_type=OUTPUT_TYPES[format])
