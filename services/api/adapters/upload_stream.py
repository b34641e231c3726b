"""Read a multipart/form-data upload as it streams, into a temporary file, never whole in memory.

The part named ``file`` is written to disk chunk by chunk while its sha256 and size are
computed; the first chunk that takes it past the limit ends the request with 413 (E101) without
reading the rest. Every other part is discarded. A body that is not well-formed multipart is E110.

:func:`receive_many` does the same for up to ``max_files`` parts of one name (docling-serve's
``files``) and keeps the other parts as small text fields (its form-encoded options).
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

from services.api import domain
from services.api.problems import Problem

FILE_FIELD = "file"
MAX_PART_HEADERS = 8 * 1024  # bytes of headers one part may carry
MAX_FIELD_BYTES = 64 * 1024  # bytes of text fields (options) one request may carry


@dataclass
class Received:
    filename: str
    size: int
    sha256: str
    head: bytes
    file: IO[bytes]  # positioned at 0; deleted when closed


@dataclass
class Form:
    files: list[Received]
    fields: dict[str, list[str]]  # every other part, as text, in order

    def close(self) -> None:
        for received in self.files:
            received.file.close()


@dataclass
class _Parts:
    limit: int
    file_field: str = FILE_FIELD
    max_files: int = 1
    many: bool = False  # several files and the text fields kept (receive_many)
    file: IO[bytes] | None = None
    filename: str | None = None
    size: int = 0
    head: bytes = b""
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    done: list[Received] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)
    field_name: str | None = None
    field_value: bytes = b""
    field_bytes: int = 0
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
        name = options[b"name"]
        self.current_is_file = name == self.file_field.encode() and self._room_for_a_file()
        self.field_name = None
        if not self.current_is_file and self.many and b"filename" not in options:
            self.field_name, self.field_value = name.decode("utf-8", "replace"), b""
        if self.current_is_file:
            if b"\\" in self.headers[b"content-disposition"]:  # a Windows path (the parser would strip it)
                raise Problem("E109")
            self._open(options.get(b"filename"))

    def _room_for_a_file(self) -> bool:
        if not self.many:
            return self.file is None  # the one file is taken: later parts of that name are discarded
        if len(self.done) >= self.max_files:
            raise Problem("E100", f"At most {self.max_files} files in one request.")
        return True

    def data(self, data: bytes, start: int, end: int) -> None:
        if self.field_name is not None:
            self.field_bytes += end - start
            if self.field_bytes > MAX_FIELD_BYTES:
                raise Problem("E100", "The form's text fields are too long.")
            self.field_value += data[start:end]
            return
        if not self.current_is_file:
            return
        chunk = data[start:end]
        self.size += len(chunk)
        if self.size > self.limit:
            raise Problem("E101")
        if len(self.head) < domain.HEAD_BYTES:
            self.head += chunk[: domain.HEAD_BYTES - len(self.head)]
        self.digest.update(chunk)
        self.file.write(chunk)

    def part_end(self) -> None:
        if self.field_name is not None:
            value = self.field_value.decode("utf-8", "replace")
            self.fields.setdefault(self.field_name, []).append(value)
            self.field_name = None
        if self.current_is_file and self.many:
            self.done.append(self._finish())
        self.current_is_file = False

    def _finish(self) -> Received:
        """The current file, rewound; the next file part starts afresh."""
        if self.file is None or self.filename is None:
            raise Problem("E100", f"The request has no part named {self.file_field}.")
        self.file.seek(0)
        received = Received(self.filename, self.size, self.digest.hexdigest(), self.head, self.file)
        self.file, self.filename, self.size, self.head = None, None, 0, b""
        self.digest = hashlib.sha256()
        return received

    def end(self) -> None:
        self.ended = True

    def _open(self, raw: bytes | None) -> None:
        if raw is None:
            raise Problem("E109", "The file part has no filename.")
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise Problem("E109") from error
        if code := domain.filename_problem(name) or domain.type_problem(name):
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


def _parser(parts: _Parts, content_type: str | None) -> MultipartParser:
    return MultipartParser(
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


async def _parse(parts: _Parts, chunks: AsyncIterator[bytes], content_type: str | None) -> None:
    """Feed the body to the parser; Problem on anything unacceptable (temporary files removed)."""
    parser = _parser(parts, content_type)
    try:
        async for chunk in chunks:
            if chunk:
                parser.write(chunk)
        parser.finalize()
        if not parts.ended:
            raise Problem("E110", "The multipart body ended before its closing boundary.")
        if parts.file is None and not parts.done:
            raise Problem("E100", f"The request has no part named {parts.file_field}.")
    except MultipartParseError as error:
        _discard(parts)
        raise Problem("E110") from error
    except InternalServerException as error:  # Litestar's "client disconnected prematurely"
        _discard(parts)
        raise Problem("E110", "The upload was cut off before its end.") from error
    except BaseException:
        _discard(parts)
        raise


async def receive(chunks: AsyncIterator[bytes], content_type: str | None, limit: int) -> Received:
    """The one ``file`` part, each file at most ``limit`` bytes."""
    parts = _Parts(limit)
    await _parse(parts, chunks, content_type)
    return parts._finish()


async def receive_many(
    chunks: AsyncIterator[bytes], content_type: str | None, limit: int, file_field: str, max_files: int
) -> Form:
    """Up to ``max_files`` parts named ``file_field`` (each at most ``limit`` bytes) and the text
    fields; at least one file."""
    parts = _Parts(limit, file_field=file_field, max_files=max_files, many=True)
    await _parse(parts, chunks, content_type)
    return Form(parts.done, parts.fields)


def _discard(parts: _Parts) -> None:
    if parts.file is not None:
        parts.file.close()
    for received in parts.done:
        received.file.close()
