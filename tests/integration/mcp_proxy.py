"""A fault-injecting TCP proxy between a converter and the MCP server, on 127.0.0.1 only.

The fault applies to each chunk the client sends, at the moment it arrives, so a change of
``mode`` takes effect on connections already open (HTTP keep-alive):

- ``pass``: forward both ways.
- ``reset``: abort both connections with RST.
- ``garbage``: answer the client with bytes that are not HTTP, then close.
- ``delay``: hold each client chunk ``delay_s`` before forwarding it.
- ``hold``: forward, except a chunk containing a ``hold_markers`` (e.g. tool names), which is
  never forwarded; ``held`` counts those chunks.

It runs its own event loop in a thread, so synchronous and asynchronous tests can both use it, and
it shuts itself down after ``lifetime_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from urllib.parse import urlsplit

from tests.e2e.proxy import reset_connection

HOST = "127.0.0.1"
GARBAGE = b'\x00\xff\xfeNOT-HTTP\x07\r\n{"jsonrpc": oops\r\n\r\n'


class McpProxy:
    def __init__(self, upstream_url: str, lifetime_s: float = 600.0) -> None:
        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname or HOST, parts.port or 80)
        self.path = parts.path
        self.lifetime_s = lifetime_s
        self.mode, self.delay_s, self.hold_markers = "pass", 0.0, ()
        self.held = 0
        self.forwarded: dict[bytes, int] = {}  # marker -> client chunks forwarded that contain it
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._stop: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}{self.path}"

    def set(self, mode: str, *, delay_s: float = 0.0, hold_markers: tuple[str, ...] = ()) -> None:
        self.mode, self.delay_s = mode, delay_s
        self.hold_markers = tuple(marker.encode() for marker in hold_markers)

    def count(self, *markers: str) -> None:
        """Count the forwarded client chunks that contain each marker (see ``forwarded``)."""
        for marker in markers:
            self.forwarded.setdefault(marker.encode(), 0)

    def calls(self, marker: str) -> int:
        return self.forwarded[marker.encode()]

    def __enter__(self) -> McpProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("proxy did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._connection, HOST, 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), self.lifetime_s)
        server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _connection(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection(*self.upstream)
        except OSError:
            reset_connection(client_w)
            return
        back = asyncio.create_task(self._pipe(up_r, client_w))
        try:
            while chunk := await client_r.read(65536):
                if not await self._forward(chunk, client_w, up_w):
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            back.cancel()
            for writer in (up_w, client_w):
                with contextlib.suppress(Exception):
                    writer.close()

    async def _forward(
        self, chunk: bytes, client_w: asyncio.StreamWriter, up_w: asyncio.StreamWriter
    ) -> bool:
        mode = self.mode
        if mode == "reset":
            reset_connection(client_w)
            reset_connection(up_w)
            return False
        if mode == "garbage":
            client_w.write(GARBAGE)
            with contextlib.suppress(ConnectionError):
                await client_w.drain()
            return False
        if mode == "hold" and any(marker in chunk for marker in self.hold_markers):
            self.held += 1
            await asyncio.Event().wait()  # never forwarded; the connection hangs until closed
        if mode == "delay":
            await asyncio.sleep(self.delay_s)
        for marker in self.forwarded:
            if marker in chunk:
                self.forwarded[marker] += 1
        up_w.write(chunk)
        await up_w.drain()
        return True

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()
