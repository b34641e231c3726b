"""docling-serve's ``/v1/chunk/{hierarchical,hybrid}/{source,file}`` routes and their ``/async`` forms
(another chunker name is docling-serve's 404).

Each document becomes an ordinary job, as on ``/v1/convert``; the task (``task_type`` "chunk")
answers ``ChunkDocumentResponse``, synchronously or on ``/v1/result/{task_id}`` (``chunking.py``).
"""

from __future__ import annotations

import time
from typing import Any

from litestar import Controller, Request, Response, post
from litestar.di import Provide

from services.api.adapters.upload_stream import Received
from services.api.compat import chunking, errors, models, sources
from services.api.compat.auth import Caller, current_caller
from services.api.compat.chunking import ChunkRequest
from services.api.compat.controllers import accepted, answered, new_task, submitted, validated
from services.api.compat.options import CompatError
from services.api.compat.tasks import Task
from services.api.deps import Deps, Services

CHUNKERS = frozenset(models.CHUNKER_OPTIONS)  # hierarchical, hybrid: the routes' {chunker}


class ChunkController(Controller):
    path = "/v1/chunk"
    tags = ["docling-serve"]
    include_in_schema = False
    dependencies = {"caller": Provide(current_caller)}
    exception_handlers = errors.HANDLERS
    opt = {"rate": "submit"}

    async def _files(self, chunker: str, request: Request, deps: Deps) -> tuple[list[Received], ChunkRequest]:
        _known(chunker)
        settings = deps.settings
        form = await sources.form(request, settings.max_file_size_bytes, settings.compat_max_files)
        try:
            return form.files, chunking.from_form(chunker, form.fields)
        except BaseException:
            form.close()
            raise

    def _sources(self, chunker: str, deps: Deps, body: dict[str, Any]) -> tuple[list[Received], ChunkRequest]:
        _known(chunker)
        found = validated(models.ChunkSourcesRequest, body)
        asked = chunking.request(
            chunker,
            found.convert_options,
            found.chunking_options,
            found.include_converted_doc,
            found.target.kind,
        )
        return sources.from_sources(found, deps.settings.max_file_size_bytes), asked

    async def _submit(
        self, deps: Deps, caller: Caller, found: tuple[list[Received], ChunkRequest], record: bool
    ) -> Task:
        files, asked = found
        task = new_task(caller, files, chunking.CHUNK_FORMATS, asked.target, "chunk", asked.spec())
        return await submitted(deps, task, files, record)

    @post(
        "/{chunker:str}/file",
        operation_id="compatChunkFile",
        status_code=200,
        summary="docling-serve: chunk files",
    )
    async def chunk_file(self, chunker: str, request: Request, deps: Services, caller: Caller) -> Response:
        started = time.monotonic()
        task = await self._submit(deps, caller, await self._files(chunker, request, deps), record=False)
        return await answered(deps, task, started)

    @post(
        "/{chunker:str}/file/async",
        operation_id="compatChunkFileAsync",
        status_code=200,
        summary="docling-serve: submit files to chunk",
    )
    async def chunk_file_async(
        self, chunker: str, request: Request, deps: Services, caller: Caller
    ) -> models.TaskStatusResponse:
        found = await self._files(chunker, request, deps)
        return accepted(await self._submit(deps, caller, found, record=True))

    @post(
        "/{chunker:str}/source",
        operation_id="compatChunkSource",
        status_code=200,
        summary="docling-serve: chunk sources",
    )
    async def chunk_source(
        self, chunker: str, deps: Services, caller: Caller, data: dict[str, Any]
    ) -> Response:
        started = time.monotonic()
        task = await self._submit(deps, caller, self._sources(chunker, deps, data), record=False)
        return await answered(deps, task, started)

    @post(
        "/{chunker:str}/source/async",
        operation_id="compatChunkSourceAsync",
        status_code=200,
        summary="docling-serve: submit sources to chunk",
    )
    async def chunk_source_async(
        self, chunker: str, deps: Services, caller: Caller, data: dict[str, Any]
    ) -> models.TaskStatusResponse:
        return accepted(await self._submit(deps, caller, self._sources(chunker, deps, data), record=True))


def _known(chunker: str) -> None:
    if chunker not in CHUNKERS:  # checked before the body is read
        raise CompatError(404, "Not Found")
