"""Start the project's MCP server or the official docling-mcp as subprocesses, and talk to them with `mcp`."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from devstack.layout import REPO_ROOT
from devstack.ports import free_ports
from devstack.probes import mcp_lists_tools
from tests.waiting import wait_for

VENV_MCP_BIN = REPO_ROOT / ".venv-mcp" / "bin"
# the secrets servers started here accept: each is one client (own server only; the official has none)
TOKEN = secrets.token_urlsafe(16)
OTHER_TOKEN = secrets.token_urlsafe(16)


@dataclass
class RunningServer:
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/mcp"

    def wait_ready(self, ready: Callable[[], bool], timeout: float = 600.0) -> None:
        """Until ``ready``; a crash fails at once, and the timeout is for a server that hangs (its
        workers warm docling up: minutes on a loaded machine)."""

        def up() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"server exited ({self.process.returncode}): {self.log.read_text()[-3000:]}"
                )
            return ready()

        try:
            wait_for(up, timeout, f"the server on port {self.port} to be ready", every=0.25)
        except AssertionError as timed_out:
            raise AssertionError(f"{timed_out}: {self.log.read_text()[-3000:]}") from None

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError:
            return 0, b""

    def stop(self) -> None:
        """SIGTERM our process group (server, forkserver, workers), SIGKILL what is left after 10 s."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)


def _launch(argv: list[str], env: Mapping[str, str], log: Path) -> RunningServer:
    port = int(env["PORT"])
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            env={**os.environ, **env, "HF_HUB_OFFLINE": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return RunningServer(process, port, log)


def launch_own(folder: Path, **settings: str) -> RunningServer:
    """`python -m services.mcp_server` from .venv-mcp; settings are MCP_SERVER_<NAME> values."""
    port = free_ports(1)[0]
    env = {
        "PORT": str(port),
        "CACHE_DIR": str(folder / "own-cache"),
        "PYTHONPATH": str(REPO_ROOT),
        "MCP_SERVER_TOKEN": f"{TOKEN},{OTHER_TOKEN}",
        **{f"MCP_SERVER_{name.upper()}": value for name, value in settings.items()},
    }
    argv = [
        str(VENV_MCP_BIN / "python"),
        "-m",
        "services.mcp_server",
        "--transport",
        "streamable-http",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    return _launch(argv, env, folder / f"own-{port}.log")


def launch_official(folder: Path) -> RunningServer:
    port = free_ports(1)[0]
    env = {
        "PORT": str(port),
        "CACHE_DIR": str(folder / "official-cache"),
        "DOCLING_MCP_CONVERSION_MODE": "local",
    }
    argv = [
        str(VENV_MCP_BIN / "docling-mcp-server"),
        "--transport",
        "streamable-http",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    return _launch(argv, env, folder / f"official-{port}.log")


def own_ready(server: RunningServer) -> Callable[[], bool]:
    return lambda: server.get("/health")[0] == 200


@contextmanager
def own_server(folder: Path, **settings: str) -> Iterator[RunningServer]:
    """Our MCP server (``launch_own``), ready, for as long as the block runs; stopped at the end."""
    running = launch_own(folder, **settings)
    try:
        running.wait_ready(own_ready(running))
        yield running
    finally:
        running.stop()


def official_ready(server: RunningServer) -> Callable[[], bool]:
    return lambda: mcp_lists_tools(server.url, server.port)


@asynccontextmanager
async def session(url: str, token: str = TOKEN) -> AsyncIterator[ClientSession]:
    async with (
        httpx2.AsyncClient(timeout=120, headers={"Authorization": f"Bearer {token}"}) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as client,
    ):
        await client.initialize()
        yield client


def error_text(result) -> str:
    return " ".join(getattr(part, "text", "") for part in result.content)


async def markdown_of(client: ClientSession, source: str) -> str:
    converted = await client.call_tool("convert_document_into_docling_document", {"source": source})
    assert not converted.is_error, error_text(converted)
    key = converted.structured_content["document_key"]
    exported = await client.call_tool("export_docling_document_to_markdown", {"document_key": key})
    assert not exported.is_error, error_text(exported)
    return exported.structured_content["markdown"]
