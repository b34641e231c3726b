"""Memory for one 100 MB upload, end to end: does any process hold the upload whole?

Starts a private stack with ``MAX_FILE_SIZE_MB`` raised past the upload, samples every process's
resident size (every 0.2 s) while a generated CSV of ``--mb`` megabytes goes from the client
through the API (streamed to disk, hashed on the way), the staging bucket, and ingest (streamed
into ``UPLOAD_DIR``, hashed on the way) to ``UploadStored``; the job then ends as the MCP server
decides (a CSV this large is refused by its row cap, E209). Prints each component's resident size
before, its peak during, and the growth as a share of the upload. Asserts nothing.

    .venv/bin/python -m bench.upload_memory [--mb 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path

import httpx
from httpx_sse import aconnect_sse

from bench.hostile import PeakMemory
from bench.stacks import private_stack
from contracts.events import TERMINAL_EVENT_TYPES

MB = 1024 * 1024
WATCHED = ("api", "ingest", "nats", "converter", "progress")


def make_csv(path: Path, megabytes: int) -> Path:
    row = b"1234567890,some text in a cell,another cell with words,3.14159,2026-12-02\n"
    with path.open("wb") as out:
        block = row * (MB // len(row))
        for _ in range(megabytes):
            out.write(block)
    return path


async def upload(api: str, path: Path) -> tuple[dict[str, float], str | None]:
    """Submit ``path`` streamed from disk; seconds to UploadStored and to the end, the end's code."""
    async with httpx.AsyncClient(base_url=api, timeout=600) as http:
        token = (await http.post("/api/v1/sessions")).json()["session_id"]
        http.headers["Authorization"] = f"Bearer {token}"
        started = time.perf_counter()
        with path.open("rb") as handle:
            answer = await http.post("/api/v1/jobs", files={"file": (path.name, handle, "text/csv")})
        answer.raise_for_status()
        times = {"accepted": time.perf_counter() - started}
        async with aconnect_sse(http, "GET", f"/api/v1/jobs/{answer.json()['job_id']}/events") as source:
            async for sse in source.aiter_sse():
                if sse.event == "UploadStored":
                    times["stored"] = time.perf_counter() - started
                if sse.event in TERMINAL_EVENT_TYPES:
                    times["ended"] = time.perf_counter() - started
                    return times, json.loads(sse.data)["data"].get("code") or sse.event
    return times, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=100)
    args = parser.parse_args()
    os.environ["MAX_FILE_SIZE_MB"] = str(args.mb + 20)
    with private_stack("upload-memory") as (stack, folder):
        document = make_csv(folder / "big.csv", args.mb)
        size = document.stat().st_size
        sampler = PeakMemory(stack)
        before = dict(sampler.sample())  # the watched components run one process each
        sampler.start()
        times, end = asyncio.run(upload(stack.urls.api, document))
        sampler.stopping.set()
        sampler.join()
    print(
        f"upload: {args.mb} MB CSV; accepted after {times.get('accepted', 0):.1f} s, "
        f"stored after {times.get('stored', 0):.1f} s, ended ({end}) after {times.get('ended', 0):.1f} s"
    )
    print("| component | resident before (MB) | peak during (MB) | growth (MB) | growth / upload |")
    print("|---|---|---|---|---|")
    for name in WATCHED:
        was, peak = before.get(name, 0) / MB, sampler.peaks.get(name, 0) / MB
        print(f"| {name} | {was:.0f} | {peak:.0f} | {peak - was:.0f} | {(peak - was) * MB / size:.2f} |")


if __name__ == "__main__":
    main()
