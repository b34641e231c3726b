"""Read a multipart/form-data upload as it streams, into a temporary file, never whole in memory.

The part named ``file`` is written to disk chunk by chunk while its sha256 and size are
computed; the first chunk that takes it past the limit ends the request with 413 (E101) without
reading the rest. Every other part is discarded. A body that is not well-formed multipart is E110.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import IO

from litestar.exceptions import InternalServerException
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from services.api import uploads
from services.api.problems import Problem

FILE_FIELD = "file"
MAX_PART_HEADERS = 8 * 1024  # bytes of headers one part may carry


@dataclass
class Received:
    filename: str
    size: int
    sha256: str
    head: bytes
    file: IO[bytes]  # positioned at 0; deleted when closed


@dataclass
class _Parts:
    limit: int
    file: IO[bytes] | None = None
    filename: str | None = None
    size: int = 0
    head: bytes = b""
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    header_name: bytes = b""
    header_value: bytes = b""
    header_bytes: int = 0
    headers: dict[bytes, bytes] = field(default_factory=dict)
    current_is_file: bool = False
    ended: bool = False

    def begin(self) -> None:
        self.headers, self.header_name, self.header_value, self.header_bytes = {}, b"", b"", 0

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._count(end - start)
        self.header_name += data[start:end]

    def header_value_(self, data: bytes, start: int, end: int) -> None:
        self._count(end - start)
        self.header_value += data[start:end]

    def header_end(self) -> None:
        self.headers[self.header_name.strip().lower()] = self.header_value.strip()
        self.header_name, self.header_value = b"", b""

    def headers_done(self) -> None:
        kind, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        if kind != b"form-data" or b"name" not in options:
            raise Problem("E110", "A part has no form-data Content-Disposition with a name.")
        self.current_is_file = options[b"name"] == FILE_FIELD.encode() and self.file is None
        if self.current_is_file:
            if b"\\" in self.headers[b"content-disposition"]:  # a Windows path (the parser would strip it)
                raise Problem("E109")
            self._open(options.get(b"filename"))

    def data(self, data: bytes, start: int, end: int) -> None:
        if not self.current_is_file:
            return
        chunk = data[start:end]
        self.size += len(chunk)
        if self.size > self.limit:
            raise Problem("E101")
        if len(self.head) < uploads.HEAD_BYTES:
            self.head += chunk[: uploads.HEAD_BYTES - len(self.head)]
        self.digest.update(chunk)
        self.file.write(chunk)

    def part_end(self) -> None:
        self.current_is_file = False

    def end(self) -> None:
        self.ended = True

    def _open(self, raw: bytes | None) -> None:
        if raw is None:
            raise Problem("E109", "The file part has no filename.")
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise Problem("E109") from error
        if code := uploads.filename_problem(name) or uploads.type_problem(name):
            raise Problem(code)
        self.filename = name
        self.file = tempfile.TemporaryFile(prefix="upload-")

    def _count(self, n: int) -> None:
        self.header_bytes += n
        if self.header_bytes > MAX_PART_HEADERS:
            raise Problem("E110", "A part's headers are too long.")


def boundary_of(content_type: str | None) -> bytes:
    kind, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary", b"")
    if kind != b"multipart/form-data" or not boundary or len(boundary) > 200:
        raise Problem("E110")
    return boundary


async def receive(chunks: AsyncIterator[bytes], content_type: str | None, limit: int) -> Received:
    """Parse the body; Problem on anything unacceptable (the temporary file is then removed)."""
    parts = _Parts(limit)
    parser = MultipartParser(
        boundary_of(content_type),
        callbacks={
            "on_part_begin": parts.begin,
            "on_header_field": parts.header_field,
            "on_header_value": parts.header_value_,
            "on_header_end": parts.header_end,
            "on_headers_finished": parts.headers_done,
            "on_part_data": parts.data,
            "on_part_end": parts.part_end,
            "on_end": parts.end,
        },
    )
    try:
        async for chunk in chunks:
            if chunk:
                parser.write(chunk)
        parser.finalize()
        if not parts.ended:
            raise Problem("E110", "The multipart body ended before its closing boundary.")
        if parts.file is None:
            raise Problem("E100", "The request has no part named file.")
    except MultipartParseError as error:
        _discard(parts)
        raise Problem("E110") from error
    except InternalServerException as error:  # Litestar's "client disconnected prematurely"
        _discard(parts)
        raise Problem("E110", "The upload was cut off before its end.") from error
    except BaseException:
        _discard(parts)
        raise
    parts.file.seek(0)
    return Received(parts.filename, parts.size, parts.digest.hexdigest(), parts.head, parts.file)


def _discard(parts: _Parts) -> None:
    if parts.file is not None:
        parts.file.close()
