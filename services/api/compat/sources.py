"""The documents of a docling-serve request as uploads: multipart ``files``, or base64 file sources."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io

from litestar import Request

from services.api import domain
from services.api.adapters import upload_stream
from services.api.adapters.upload_stream import Form, Received
from services.api.compat import models
from services.api.compat.options import CompatError
from services.api.problems import Problem

FILES_FIELD = "files"


async def form(request: Request, limit: int, max_files: int) -> Form:
    received = await upload_stream.receive_many(
        request.stream(), request.headers.get("content-type"), limit, FILES_FIELD, max_files
    )
    for upload in received.files:
        _check(upload, limit, received)
    return received


def from_sources(
    body: models.ConvertSourcesRequest | models.ChunkSourcesRequest, limit: int
) -> list[Received]:
    """File sources decoded; an http source is refused (see CLAUDE.md)."""
    found = []
    for source in body.sources:
        if isinstance(source, models.HttpSource):
            raise CompatError(
                400, "http sources are not supported by docling-jobs yet: send the file (kind 'file')."
            )
        found.append(_decoded(source, limit))
    return found


def _decoded(source: models.FileSource, limit: int) -> Received:
    if code := domain.filename_problem(source.filename) or domain.type_problem(source.filename):
        raise Problem(code)
    try:
        data = base64.b64decode(source.base64_string, validate=True)
    except (binascii.Error, ValueError) as error:
        raise CompatError(422, f"Source '{source.filename}': base64_string is not valid base64.") from error
    received = Received(
        source.filename,
        len(data),
        hashlib.sha256(data).hexdigest(),
        data[: domain.HEAD_BYTES],
        io.BytesIO(data),
    )
    _check(received, limit)
    return received


def _check(received: Received, limit: int, owner: Form | None = None) -> None:
    if code := domain.size_problem(received.size, limit) or domain.content_problem(
        received.filename, received.head
    ):
        if owner is not None:
            owner.close()
        raise Problem(code)
