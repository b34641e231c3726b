"""A small fault-injecting TCP proxy for the end-to-end tests, on 127.0.0.1 only.

Each accepted connection carries one HTTP request: the proxy reads the request head, rewrites its
``Connection`` header to ``close`` (so a client never reuses a connection the proxy did not look at),
asks ``admit(connection)`` whether to forward it, and, if so, pipes bytes both ways to the current upstream.
A refused connection is reset (RST). ``plan(connection)`` may give a connection a ``Cut``: once that
many SSE events (frames with an ``id:``) have gone to the client, and then up to ``into_next`` bytes
more (never a whole further event), the connection is cut (RST, or FIN after the bytes forwarded so
far). Cuts count events, not bytes or seconds, so what a client has received when it is cut is the
same however fast the machine is.

Bounded: at most ``max_connections`` at once (others wait), at most ``record_limit`` bytes recorded
per connection, and the proxy shuts itself down after ``lifetime_s`` even if a test forgets to.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

HOST = "127.0.0.1"
HEAD_LIMIT = 64 * 1024
CHUNK = 4096
# One SSE event with an id, as the API frames it (``id: 3\r\nevent: ...\r\ndata: ...\r\n\r\n``),
# within an HTTP chunk or not; comments (heartbeats) and the ``sync`` event carry no id.
EVENT = re.compile(rb"\nid: \d+\r?\n(?:[^\r\n]*\r?\n)*?\r?\n")


@dataclass(frozen=True)
class Cut:
    after_events: int  # cut once this many events went to the client on this connection ...
    into_next: int = 0  # ... and up to this many bytes more, never completing another event
    reset: bool = True  # RST; False: FIN after flushing what was forwarded


def cut_at(stream: bytes, cut: Cut) -> int | None:
    """Where in the bytes sent so far (``stream``) the connection is to be cut; None: not yet."""
    ends = [match.end() for match in EVENT.finditer(stream)]
    if len(ends) < cut.after_events:
        return None
    target = (ends[cut.after_events - 1] if cut.after_events else 0) + cut.into_next
    if len(ends) > cut.after_events:  # the next event is complete in ``stream``: stop inside it
        target = min(target, ends[cut.after_events] - 1)
    return target if target <= len(stream) else None


@dataclass
class Connection:
    """What one proxied connection did (read from the test thread once it is over)."""

    number: int
    head: bytes = b""
    upstream: str = ""
    admitted: bool = True
    cut: Cut | None = None
    was_cut: bool = False
    received: bytearray = field(default_factory=bytearray)  # upstream -> client, as forwarded
    closed: bool = False

    def header(self, name: str) -> str | None:
        for line in self.head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == name.lower().encode():
                return value.strip().decode()
        return None

    @property
    def request_line(self) -> str:
        return self.head.split(b"\r\n", 1)[0].decode()


def reset_connection(writer: asyncio.StreamWriter) -> None:
    """Close with RST rather than FIN: what a crashed peer or a cut cable looks like."""
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError):
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _close_header(head: bytes) -> bytes:
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close"])


class Proxy:
    """``with Proxy("http://127.0.0.1:3000") as proxy: Client(proxy.url)``; see the module docstring."""

    def __init__(
        self,
        upstream: str,
        *,
        plan: Callable[[Connection], Cut | None] | None = None,
        admit: Callable[[Connection], bool] | None = None,
        record_limit: int = 256 * 1024,
        max_connections: int = 256,
        lifetime_s: float = 300.0,
    ) -> None:
        self.upstream = upstream
        self._plan = plan or (lambda connection: None)
        self._admit = admit or (lambda connection: True)
        self._record_limit, self._lifetime_s = record_limit, lifetime_s
        self._max_connections = max_connections
        self.connections: list[Connection] = []
        self._open: dict[int, list[asyncio.StreamWriter]] = {}
        self._frozen: dict[int, asyncio.Event] = {}  # set: forward again (the connection was cut)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="e2e-proxy", daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._slots: asyncio.Semaphore | None = None
        self.port = 0

    # -- life --------------------------------------------------------------------------------
    def __enter__(self) -> Proxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        if self._loop.is_running():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._loop.close()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    async def _start(self) -> None:
        self._slots = asyncio.Semaphore(self._max_connections)
        self._server = await asyncio.start_server(self._serve, HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        self._loop.call_later(self._lifetime_s, lambda: asyncio.ensure_future(self._stop()))

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self._cut_all()

    # -- controls (from the test thread) -----------------------------------------------------
    def cut_all(self) -> int:
        """Reset every open connection now; how many there were."""
        return self._call(self._cut_all)

    def freeze(self) -> None:
        """Stop forwarding anything to the clients of the open connections (held until cut)."""
        self._call(lambda: self._frozen.update({number: asyncio.Event() for number in self._open}))

    def open_count(self) -> int:
        return self._call(lambda: len(self._open))

    def _call(self, fn):
        async def run():
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)

    def _cut_all(self) -> int:
        count = 0
        for number, writers in list(self._open.items()):
            self.connections[number].was_cut = True
            self._thaw(number)
            for writer in writers:
                reset_connection(writer)
            count += 1
        self._open.clear()
        return count

    # -- one connection ----------------------------------------------------------------------
    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        assert self._slots is not None
        async with self._slots:
            connection = Connection(len(self.connections), upstream=self.upstream)
            self.connections.append(connection)
            try:
                await self._proxy(connection, client_reader, client_writer)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                reset_connection(client_writer)
            finally:
                connection.closed = True
                self._open.pop(connection.number, None)
                self._frozen.pop(connection.number, None)

    async def _proxy(
        self, connection: Connection, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        head = await asyncio.wait_for(client_reader.readuntil(b"\r\n\r\n"), timeout=30)
        connection.head = head[:HEAD_LIMIT]
        if not self._admit(connection):
            connection.admitted = False
            reset_connection(client_writer)
            return
        host, port = self.upstream.removeprefix("http://").rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        self._open[connection.number] = [client_writer, up_writer]
        connection.cut = self._plan(connection)
        up_writer.write(_close_header(head[:-4]) + b"\r\n\r\n")
        pumps = [
            asyncio.ensure_future(self._pipe(client_reader, up_writer)),
            asyncio.ensure_future(self._to_client(connection, up_reader, client_writer)),
        ]
        try:
            await pumps[1]  # the response decides when the exchange is over
        finally:
            pumps[0].cancel()
            for writer in (up_writer, client_writer):
                if not connection.was_cut:
                    with contextlib.suppress(Exception):
                        writer.close()

    def _cut_one(self, connection: Connection) -> None:
        writers = self._open.pop(connection.number, None)
        if writers is None:
            return
        connection.was_cut = True
        self._thaw(connection.number)
        client_writer, up_writer = writers
        reset_connection(up_writer)
        if connection.cut is None or connection.cut.reset:
            reset_connection(client_writer)
        else:
            client_writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await reader.read(CHUNK):
                writer.write(data)
                await writer.drain()

    async def _to_client(
        self, connection: Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        sent = bytearray()  # kept only to find where a planned cut falls
        with contextlib.suppress(OSError, ConnectionError):
            while data := await reader.read(CHUNK):
                if (gate := self._frozen.get(connection.number)) is not None:
                    await gate.wait()  # frozen: hold the data until the connection is cut
                if connection.was_cut:
                    return
                stop = None if connection.cut is None else cut_at(bytes(sent) + data, connection.cut)
                if stop is not None:
                    self._forward(connection, writer, data[: stop - len(sent)])
                    await writer.drain()
                    self._cut_one(connection)
                    return
                if connection.cut is not None:
                    sent += data
                self._forward(connection, writer, data)
                await writer.drain()

    def _thaw(self, number: int) -> None:
        if (gate := self._frozen.get(number)) is not None:
            gate.set()

    def _forward(self, connection: Connection, writer: asyncio.StreamWriter, data: bytes) -> None:
        room = self._record_limit - len(connection.received)
        if room > 0:
            connection.received += data[:room]
        writer.write(data)
