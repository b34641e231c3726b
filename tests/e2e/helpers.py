"""What the end-to-end tests share: an HTTP client on the stack, a direct MCP caller, and holding
workers with SIGSTOP (to make "mid-job" exact)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import httpx2
import nats
from httpx_sse import connect_sse
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from devstack import Stack
from tests.integration.bus import Log


def new_session(base_url: str) -> str:
    """A fresh session's bearer token."""
    response = httpx.post(f"{base_url}/api/v1/sessions", timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["session_id"]


def authorized(base_url: str, token: str | None = None, **kwargs) -> httpx.Client:
    """An httpx client on one API instance in the given session (default: the suite's, from the env)."""
    token = token or os.environ["DOCLING_JOBS_TOKEN"]
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, **kwargs)


def submit(api: httpx.Client, path: Path) -> dict:
    with path.open("rb") as handle:
        response = api.post("/api/v1/jobs", files={"file": (path.name, handle)})
    assert response.status_code == 202, response.text
    return response.json()


def read_stream(
    api: httpx.Client,
    job_id: str,
    last_event_id: int | None = None,
    timeout: float = 60.0,
    syncs: list | None = None,
) -> list[tuple[int, str, dict]]:
    """Every job event of the SSE stream until the server ends it (``sync`` events go to ``syncs``)."""
    headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
    events = []
    with connect_sse(
        api, "GET", f"/api/v1/jobs/{job_id}/events", headers=headers, timeout=httpx.Timeout(timeout)
    ) as source:
        assert source.response.status_code == 200
        assert source.response.headers["cache-control"] == "no-cache"
        for sse in source.iter_sse():
            if sse.event == "sync":
                (syncs if syncs is not None else []).append(json.loads(sse.data))
            elif sse.data:
                events.append((int(sse.id), sse.event, json.loads(sse.data)))
    return events


async def direct_markdown(mcp_url: str, path: Path) -> str:
    """What the MCP server itself answers for this file, without our pipeline."""
    async with (
        httpx2.AsyncClient(timeout=120) as http,
        streamable_http_client(mcp_url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        converted = await session.call_tool("convert_document_into_docling_document", {"source": str(path)})
        assert not converted.is_error
        key = converted.structured_content["document_key"]
        exported = await session.call_tool("export_docling_document_to_markdown", {"document_key": key})
        assert not exported.is_error
        return exported.structured_content["markdown"]


@contextmanager
def held(stack: Stack, *names: str) -> Iterator[None]:
    """SIGSTOP the named workers (their whole process groups), SIGCONT them on the way out."""
    stopped = []
    try:
        for name in names:
            stack.kill(name, signal.SIGSTOP)
            stopped.append(name)
        yield
    finally:
        for name in stopped:
            stack.kill(name, signal.SIGCONT)


def copies(stack: Stack, service: str) -> list[str]:
    names = [service, f"{service}-2"]
    return [name for name in names if stack.pid(name) is not None]


def projected_so_far(stack: Stack) -> None:
    """A barrier: every event the log holds now has been projected (job list, job state, archive)."""

    async def catch_up() -> None:
        nc = await nats.connect(stack.env()["NATS_URL"])
        try:
            log = Log(nc)
            await log.projected_through(await log.last_seq())
        finally:
            await nc.close()

    asyncio.run(catch_up())
