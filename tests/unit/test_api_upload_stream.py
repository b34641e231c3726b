"""The streaming multipart reader over in-memory chunks (the e2e tests drive it through HTTP)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import pytest
from litestar.exceptions import InternalServerException

from services.api.adapters.upload_stream import receive
from services.api.problems import Problem

TYPE = "multipart/form-data; boundary=XyZ"


def body(name: bytes, content: bytes) -> bytes:
    return (
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="'
        + name
        + b'"\r\n\r\n'
        + content
        + b"\r\n--XyZ--\r\n"
    )


async def chunks(data: bytes, size: int = 7, cut_after: int | None = None) -> AsyncIterator[bytes]:
    for n, start in enumerate(range(0, len(data), size)):
        if cut_after is not None and n == cut_after:
            raise InternalServerException("client disconnected prematurely")
        yield data[start : start + size]


async def test_a_file_arrives_in_pieces_and_is_hashed_on_the_way() -> None:
    content = b"# title\n" * 100
    got = await receive(chunks(body(b"n.md", content)), TYPE, limit=10_000)
    with got.file:
        assert got.file.read() == content
    assert (got.filename, got.size, got.sha256) == ("n.md", len(content), hashlib.sha256(content).hexdigest())
    assert got.head == content


async def test_one_byte_past_the_limit_stops_the_read() -> None:
    read = []

    async def counting(data: bytes) -> AsyncIterator[bytes]:
        async for chunk in chunks(data, size=10):
            read.append(len(chunk))
            yield chunk

    with pytest.raises(Problem) as refused:
        await receive(counting(body(b"n.md", b"x" * 1000)), TYPE, limit=100)
    assert refused.value.entry.code == "E101" and sum(read) < 200


async def test_a_cut_upload_is_e110_not_a_server_error() -> None:
    with pytest.raises(Problem) as refused:
        await receive(chunks(body(b"n.md", b"x" * 100), cut_after=3), TYPE, limit=10_000)
    assert refused.value.entry.code == "E110"
