"""docling-serve's v1 routes: one controller per resource (conversions, tasks, the service)."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any, TypeVar

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import Parameter
from pydantic import BaseModel, ValidationError

from services.api import owner_queue
from services.api.adapters.upload_stream import Received
from services.api.compat import chunking, errors, models, render, service, sources
from services.api.compat.auth import Caller, current_caller
from services.api.compat.options import CompatError, Parsed, from_form, parse
from services.api.compat.tasks import Task
from services.api.deps import Deps, Services

TASK_NOT_FOUND = "Task not found."
RESULT_NOT_READY = "Task result not found. Please wait for a completion status."
ZIP_NAME = "converted_docs.zip"
MAX_POLL_WAIT_S = 60.0
Request_ = TypeVar("Request_", bound=BaseModel)


async def answer(deps: Deps, task: Task, outcomes: dict, seconds: float | None = None) -> Response:
    """The task's result: one document in the body, or every document in a zip; a chunk task's chunks."""
    if task.task_type == "chunk":
        return await chunking.answer(deps, task, outcomes, seconds)
    documents = [
        await service.document(deps, name, outcomes[job_id], task.to_formats)
        for job_id, name in zip(task.job_ids, task.filenames, strict=True)
    ]
    if task.target == "inbody" and len(documents) == 1:
        took = seconds if seconds is not None else documents[0].seconds
        return Response(documents[0].response(took).model_dump(mode="json"), media_type="application/json")
    archive = render.zipped([(d.filename, d.contents) for d in documents if d.status == "success"])
    return Response(
        archive,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{ZIP_NAME}"'},
    )


def validated(model: type[Request_], body: dict[str, Any]) -> Request_:
    """A JSON request body as its model; 422 naming each field docling-serve would refuse."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise CompatError(
            422, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        ) from error


class ConvertController(Controller):
    path = "/v1/convert"
    tags = ["docling-serve"]
    include_in_schema = False
    dependencies = {"caller": Provide(current_caller)}
    exception_handlers = errors.HANDLERS
    opt = {"rate": "submit"}

    async def _files(self, request: Request, deps: Deps) -> tuple[list[Received], Parsed, str]:
        settings = deps.settings
        form = await sources.form(request, settings.max_file_size_bytes, settings.compat_max_files)
        try:
            parsed = parse(from_form(form.fields))
            target = (form.fields.get("target_type") or ["inbody"])[-1]
            service.fail_unless_supported_target(target)
        except BaseException:
            form.close()
            raise
        return form.files, parsed, target

    def _sources(self, deps: Deps, body: dict[str, Any]) -> tuple[list[Received], Parsed, str]:
        request = validated(models.ConvertSourcesRequest, body)
        parsed = parse(request.options)
        service.fail_unless_supported_target(request.target.kind)
        return sources.from_sources(request, deps.settings.max_file_size_bytes), parsed, request.target.kind

    async def _sync(self, deps: Deps, caller: Caller, found: tuple[list[Received], Parsed, str]) -> Response:
        started = time.monotonic()
        files, parsed, target = found
        task = await submitted(deps, new_task(caller, files, parsed.to_formats, target), files, record=False)
        return await answered(deps, task, started)

    async def _async(
        self, deps: Deps, caller: Caller, found: tuple[list[Received], Parsed, str]
    ) -> models.TaskStatusResponse:
        files, parsed, target = found
        task = await submitted(deps, new_task(caller, files, parsed.to_formats, target), files, record=True)
        return accepted(task)

    @post(
        "/file",
        operation_id="compatConvertFile",
        status_code=200,
        summary="docling-serve: convert files, wait",
    )
    async def convert_file(self, request: Request, deps: Services, caller: Caller) -> Response:
        return await self._sync(deps, caller, await self._files(request, deps))

    @post(
        "/file/async",
        operation_id="compatConvertFileAsync",
        status_code=200,
        summary="docling-serve: submit files",
    )
    async def convert_file_async(
        self, request: Request, deps: Services, caller: Caller
    ) -> models.TaskStatusResponse:
        return await self._async(deps, caller, await self._files(request, deps))

    @post(
        "/source",
        operation_id="compatConvertSource",
        status_code=200,
        summary="docling-serve: convert sources, wait",
    )
    async def convert_source(self, deps: Services, caller: Caller, data: dict[str, Any]) -> Response:
        return await self._sync(deps, caller, self._sources(deps, data))

    @post(
        "/source/async",
        operation_id="compatConvertSourceAsync",
        status_code=200,
        summary="docling-serve: submit sources",
    )
    async def convert_source_async(
        self, deps: Services, caller: Caller, data: dict[str, Any]
    ) -> models.TaskStatusResponse:
        return await self._async(deps, caller, self._sources(deps, data))


def new_task(
    caller: Caller,
    files: list[Received],
    to_formats: tuple[str, ...],
    target: str,
    task_type: models.TaskType = "convert",
    chunking: dict[str, Any] | None = None,
) -> Task:
    """A task over one new job per file."""
    job_ids = tuple(service.new_ids(len(files)))
    names = tuple(f.filename for f in files)
    return Task(str(uuid.uuid4()), caller.owner, job_ids, names, to_formats, target, task_type, chunking)


async def submitted(deps: Deps, task: Task, files: list[Received], record: bool) -> Task:
    """The task's jobs submitted (and, for an async request, the task recorded first), unless the
    owner's queue has no room for them all (E117)."""
    try:
        await owner_queue.make_room(deps, task.owner, len(files))
        if record:  # before the jobs: a task id is never handed out for jobs it does not know
            await deps.tasks.save(task)
        await service.submit(deps, task.owner, list(task.job_ids), files, task.to_formats)
    finally:
        for received in files:
            received.file.close()
    return task


async def answered(deps: Deps, task: Task, started: float) -> Response:
    """A synchronous request's answer: once every job has its outcome, or 504 past the limit."""
    async with deps.outcomes.watching(list(task.job_ids)) as watch:
        if not await watch.all_ended(deps.settings.compat_max_sync_wait_s):
            raise CompatError(
                504,
                "Conversion is taking too long. The maximum wait time is configured as "
                f"API_COMPAT_MAX_SYNC_WAIT_S={deps.settings.compat_max_sync_wait_s:g}; "
                "use the /async route and poll the task.",
                "E207",
            )
    return await answer(deps, task, watch.outcomes, service.elapsed(started))


def accepted(task: Task) -> models.TaskStatusResponse:
    """An async request's answer: the new task, pending."""
    return service.task_status(task.task_id, list(task.job_ids), {}, False, task.task_type)


async def load_task(deps: Deps, task_id: str, caller: Caller) -> Task:
    try:
        canonical = str(uuid.UUID(task_id))
    except ValueError as error:
        raise CompatError(404, TASK_NOT_FOUND, "E104") from error
    task = await deps.tasks.get(canonical, caller.owner)
    if task is None:
        raise CompatError(404, TASK_NOT_FOUND, "E104")
    return task


class TaskController(Controller):
    path = "/v1"
    tags = ["docling-serve"]
    include_in_schema = False
    dependencies = {"caller": Provide(current_caller)}
    exception_handlers = errors.HANDLERS

    @get(
        "/status/poll/{task_id:str}",
        operation_id="compatPollTask",
        opt={"rate": "job"},
        summary="docling-serve: a task's deps, waiting up to ?wait= seconds for it to end",
    )
    async def poll(
        self, deps: Services, caller: Caller, task_id: str, wait: Annotated[float, Parameter(ge=0)] = 0.0
    ) -> models.TaskStatusResponse:
        task = await load_task(deps, task_id, caller)
        job_ids = list(task.job_ids)
        async with deps.outcomes.watching(job_ids) as watch:
            if wait > 0:
                await watch.all_ended(min(wait, MAX_POLL_WAIT_S))
            outcomes = dict(watch.outcomes)
        started = bool(outcomes) or any([await deps.outcomes.started(j) for j in job_ids[:1]])
        return service.task_status(task.task_id, job_ids, outcomes, started, task.task_type)

    @get(
        "/result/{task_id:str}",
        operation_id="compatTaskResult",
        opt={"rate": "result"},
        summary="docling-serve: a finished task's documents",
    )
    async def result(self, deps: Services, caller: Caller, task_id: str) -> Response:
        task = await load_task(deps, task_id, caller)
        async with deps.outcomes.watching(list(task.job_ids)) as watch:
            if watch.pending:
                raise CompatError(404, RESULT_NOT_READY, "E105")
        return await answer(deps, task, watch.outcomes)
