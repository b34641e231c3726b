"""The handlers of ``/api/v1/jobs``: submit, list, read, follow (SSE), cancel, download.

One Litestar controller per resource: sessions are ``session_controller``, health ``health``,
docling-serve's ``/v1`` routes ``compat/controllers``."""

from __future__ import annotations

import gzip
import uuid
from typing import Annotated

import anyio
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import ServerSentEvent
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from contracts.events import JobCancelRequested, JobSubmitted
from contracts.formats import DERIVED_FORMATS, INPUT_TYPES, OUTPUT_TYPES, ResultFormat, extension_of
from contracts.statuses import TERMINAL_STATUSES
from runtime.bus import OutcomeTaken
from services.api import domain, guard, openapi, owner_queue, stream_slots, views
from services.api.adapters import upload_stream
from services.api.adapters.sessions import Session
from services.api.compat import render
from services.api.deps import Deps, Services
from services.api.metrics import counted_stream
from services.api.problems import Problem
from services.api.streams import JobStream, missed

GZIP_MIN_BYTES = 1024  # smaller results are sent as they are


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/event-stream" not in accept


async def load_job(deps: Deps, job_id: str, session: Session) -> views.JobView:
    """The job if this session owns it; 404 E104 otherwise (someone else's job looks like none)."""
    row = await deps.read_model.job(job_id)
    if row is not None:
        if row["owner"] != session.owner:
            raise Problem("E104")
        return views.from_row(row)
    if await deps.submissions.owner_of(job_id) == session.owner:
        return views.submitted(job_id)
    raise Problem("E104")


async def result_response(
    request: Request, job: views.JobView, fmt: str, content: str | bytes
) -> Response[bytes]:
    """The result under the upload's name, gzipped when the client accepts it (a DOCX's JSON is
    about 75 times its size and compresses about tenfold)."""
    headers = {
        "Content-Disposition": domain.result_disposition(job.filename, fmt),
        "Vary": "Accept-Encoding",
    }
    body = content.encode() if isinstance(content, str) else content
    if len(body) >= GZIP_MIN_BYTES and domain.accepts_gzip(request.headers.get("accept-encoding")):
        body = await anyio.to_thread.run_sync(gzip.compress, body)
        headers["Content-Encoding"] = "gzip"
    # Litestar adds "; charset=utf-8" to text types itself: name the bare type, or it is said twice
    return Response(body, media_type=OUTPUT_TYPES[fmt].split(";")[0], headers=headers)


class JobController(Controller):
    path = views.PREFIX
    tags = ["jobs"]
    dependencies = {"session": Provide(guard.current_session)}
    security = openapi.SESSION_REQUIRED

    @post(
        "/",
        operation_id="submitJob",
        responses=openapi.problems("submitJob"),
        status_code=HTTP_202_ACCEPTED,
        opt={"rate": "submit"},
        operation_class=openapi.UploadOperation,
        summary="Upload a document to convert (multipart/form-data, field file)",
    )
    async def submit(self, request: Request, deps: Services, session: Session) -> Response[views.JobView]:
        await owner_queue.make_room(deps, session.owner)  # before reading the body
        limit = deps.settings.max_file_size_bytes
        received = await upload_stream.receive(request.stream(), request.headers.get("content-type"), limit)
        with received.file:
            if code := domain.size_problem(received.size, limit) or domain.content_problem(
                received.filename, received.head
            ):
                raise Problem(code)
            job_id = str(uuid.uuid4())
            await deps.submissions.stage(job_id, received.file)
        submitted = JobSubmitted(
            job_id=job_id,
            source="api",
            filename=received.filename,
            content_type=INPUT_TYPES[extension_of(received.filename)],
            size_bytes=received.size,
            sha256=received.sha256,
            staging_object=job_id,
            owner=session.owner,
        )
        await deps.submissions.submit(submitted)
        view = views.submitted(job_id, received.filename, received.size, at=submitted.occurred_at)
        return Response(view, status_code=HTTP_202_ACCEPTED, headers={"Location": view.links.self})

    @get(
        "/",
        operation_id="listJobs",
        responses=openapi.problems("listJobs"),
        opt={"rate": "list"},
        summary="The session's jobs, newest first, a page at a time",
    )
    async def list_jobs(
        self,
        deps: Services,
        session: Session,
        limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
        offset: Annotated[int, Parameter(ge=0, le=1_000_000)] = 0,
    ) -> views.JobList:
        rows = await deps.read_model.jobs_of(session.owner, limit + 1, offset)
        more = len(rows) > limit
        return views.JobList(
            jobs=[views.from_row(r) for r in rows[:limit]],
            limit=limit,
            offset=offset,
            next=f"{views.PREFIX}?limit={limit}&offset={offset + limit}" if more else None,
        )

    @get(
        "/{job_id:uuid}",
        operation_id="getJob",
        responses=openapi.problems("getJob"),
        summary="The job's current state",
        opt={"rate": "job"},
    )
    async def status(self, deps: Services, session: Session, job_id: uuid.UUID) -> views.JobView:
        return await load_job(deps, str(job_id), session)

    @get(
        "/{job_id:uuid}/events",
        operation_id="streamJobEvents",
        responses=openapi.problems("streamJobEvents"),
        summary="The job's events: Server-Sent Events resumable with Last-Event-ID, or a JSON page "
        "of the events after ?after= when the client accepts application/json",
        opt={"rate": "events"},
    )
    async def events(
        self,
        request: Request,
        deps: Services,
        session: Session,
        job_id: uuid.UUID,
        last_event_id: Annotated[str | None, Parameter(header="Last-Event-ID")] = None,
        after: Annotated[str | None, Parameter(query="after")] = None,
    ) -> ServerSentEvent | Response:
        since = domain.parse_last_event_id(last_event_id if last_event_id is not None else after)
        if since is None:
            raise Problem("E100", "Last-Event-ID (or after) must be the non-negative integer id of an event.")
        if wants_json(request):
            # events first, then the state: the state is then at least as new as the events, so a
            # page never pairs the terminal event with an older state
            await load_job(deps, str(job_id), session)  # before reading anything: 404 if not ours
            history = await missed(deps.feed, deps.read_model, str(job_id), since)
            items = [views.EventItem.of(e) for e in history.entries]
            return Response(views.EventPage(events=items, job=await load_job(deps, str(job_id), session)))
        job = await load_job(deps, str(job_id), session)
        if deps.fallback.active:  # no live feed without Redis: the client falls back to polling
            raise Problem(
                "E503", "Live events are unavailable right now; poll with Accept: application/json."
            )
        if job.status in TERMINAL_STATUSES and since >= job.last_event_id:
            return Response(None, status_code=HTTP_204_NO_CONTENT)
        stream = JobStream(
            str(job_id),
            since,
            deps.feed,
            deps.read_model,
            deps.settings.sse_heartbeat_s,
            deps.settings.sse_retry_ms,
            job.model_dump(mode="json"),
        )
        messages = await stream_slots.opened(deps.stream_slots, session.owner, stream.messages())
        return ServerSentEvent(
            counted_stream(messages),
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @delete(
        "/{job_id:uuid}",
        operation_id="cancelJob",
        responses=openapi.problems("cancelJob"),
        status_code=HTTP_202_ACCEPTED,
        summary="Ask to cancel a job; it ends as cancelled unless it ends otherwise first",
        opt={"rate": "cancel"},
    )
    async def cancel(self, deps: Services, session: Session, job_id: uuid.UUID) -> Response[views.JobView]:
        job = await load_job(deps, str(job_id), session)
        if job.status in TERMINAL_STATUSES:
            raise Problem("E108")
        try:
            await deps.submissions.submit(JobCancelRequested(job_id=str(job_id), source="api"))
        except OutcomeTaken as ended:  # it ended between the look and the request
            raise Problem("E108") from ended
        return Response(job, status_code=HTTP_202_ACCEPTED)

    @get(
        "/{job_id:uuid}/result",
        operation_id="getJobResult",
        responses=openapi.problems("getJobResult"),
        summary="The converted document",
        media_type="text/plain",
        opt={"rate": "result"},
    )
    async def result(
        self,
        request: Request,
        deps: Services,
        session: Session,
        job_id: uuid.UUID,
        format: ResultFormat = "markdown",
    ) -> Response[bytes]:
        job = await load_job(deps, str(job_id), session)
        if job.status != "succeeded":
            raise Problem("E106" if job.status in TERMINAL_STATUSES else "E105")
        derived = format in DERIVED_FORMATS  # exported here from the stored DoclingDocument JSON
        content = await deps.read_model.result(str(job_id), "json" if derived else format)
        if content is None:  # a docling-serve request's job made only the formats it asked for
            raise Problem("E116")
        if derived:
            content = await anyio.to_thread.run_sync(render.exported, content, format)
        return await result_response(request, job, format, content)
