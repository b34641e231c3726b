"""What several benchmarks do to one job through the public API: submit a file, follow its SSE
stream to the terminal event, and fetch its Markdown."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from httpx_sse import aconnect_sse

from contracts.events import TERMINAL_EVENT_TYPES


@dataclass(frozen=True)
class Ended:
    job_id: str
    event: str  # the terminal event's type, or "stream ended" when the stream closed without one
    code: str | None  # its application code, for a failure or a rejection
    seconds: float  # from the submission to the terminal event


async def submit_and_follow(http: httpx.AsyncClient, path: Path) -> Ended:
    """Submit ``path`` and follow the job's events until the terminal one."""
    started = time.perf_counter()
    with path.open("rb") as handle:
        job = (await http.post("/api/v1/jobs", files={"file": (path.name, handle.read())})).json()
    async with aconnect_sse(http, "GET", f"/api/v1/jobs/{job['job_id']}/events") as source:
        async for sse in source.aiter_sse():
            if sse.event in TERMINAL_EVENT_TYPES:
                code = json.loads(sse.data)["data"].get("code")
                return Ended(job["job_id"], sse.event, code, time.perf_counter() - started)
    return Ended(job["job_id"], "stream ended", None, time.perf_counter() - started)


async def pipeline_markdown(http: httpx.AsyncClient, path: Path) -> str:
    """What a user does: submit ``path``, follow its events to the end, download the Markdown.
    Raises when the job did not succeed."""
    ended = await submit_and_follow(http, path)
    if ended.event != "ConversionSucceeded":
        raise RuntimeError(f"job {ended.job_id} ended with {ended.event} ({ended.code})")
    result = await http.get(f"/api/v1/jobs/{ended.job_id}/result", params={"format": "markdown"})
    result.raise_for_status()
    return result.text
