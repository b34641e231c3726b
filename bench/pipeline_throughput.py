"""Jobs per second through the whole pipeline, and the submit-to-result latency at low load.

Starts a private stack (our MCP server unless DEVSTACK_MCP_SERVER=official; --copies N runs every
service N times), then:
1. low load: 20 small DOCX one after another: the median and p90 from submit to the Markdown
   result in hand;
2. throughput: 50 small DOCX submitted at once, each followed on its SSE stream and its Markdown
   fetched: jobs per second for the whole batch (first submit to last result);
3. the same 50 documents' worth straight to the MCP server (convert and export Markdown, 50
   concurrent sessions): documents per second, for comparison.
Every document is unique, so nothing is answered from a cache. Prints numbers; asserts nothing.

    .venv/bin/python -m bench.pipeline_throughput [--copies 2] [--jobs 50] [--profile]

--profile also prints the CPU seconds each component (and the MCP server's workers) spent during the
burst, from /proc: where the time per job goes.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

import httpx

from bench import cpu_profile
from bench.jobs import pipeline_markdown
from bench.stacks import private_stack
from devstack import Stack
from tests.documents import make_docx
from tests.e2e.helpers import direct_markdown


async def one_job(http: httpx.AsyncClient, path: Path) -> float:
    started = time.perf_counter()
    await pipeline_markdown(http, path)
    return time.perf_counter() - started


async def measure(stack: Stack, docs: Path, jobs: int, profile: bool) -> None:
    api_url, mcp_url, direct_docs = stack.urls.api, stack.urls.mcp, stack.layout.uploads
    limits = httpx.Limits(max_connections=4 * jobs)
    token = httpx.post(f"{api_url}/api/v1/sessions", timeout=30).json()["session_id"]
    async with httpx.AsyncClient(
        base_url=api_url, timeout=300, limits=limits, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        for n in range(3):  # warm-up
            await one_job(http, make_docx(docs / f"warm{n}.docx"))
        low = [await one_job(http, make_docx(docs / f"low{n}.docx")) for n in range(20)]
        batch = [make_docx(docs / f"batch{n}.docx") for n in range(jobs)]
        cpu_before, started = cpu_profile.snapshot(stack), time.perf_counter()
        latencies = await asyncio.gather(*(one_job(http, path) for path in batch))
        pipeline_s = time.perf_counter() - started
        cpu_after = cpu_profile.snapshot(stack)
    straight = [make_docx(direct_docs / f"bench-direct-{n}.docx") for n in range(jobs)]
    started = time.perf_counter()
    token = stack.layout.mcp_token.read_text().strip()
    await asyncio.gather(*(direct_markdown(mcp_url, path, token) for path in straight))
    direct_s = time.perf_counter() - started
    print(
        f"low load (20 one at a time)  median {statistics.median(low) * 1000:7.1f} ms   "
        f"p90 {statistics.quantiles(low, n=10)[-1] * 1000:7.1f} ms   (target: median < 300 ms)"
    )
    print(
        f"pipeline, {jobs} at once        {jobs / pipeline_s:7.1f} jobs/s   "
        f"({pipeline_s:.2f} s; per-job median {statistics.median(latencies) * 1000:.0f} ms)   "
        f"(target >= 30 jobs/s)"
    )
    print(f"MCP server direct, {jobs} at once {jobs / direct_s:6.1f} docs/s   ({direct_s:.2f} s)")
    if profile:
        print(cpu_profile.report(cpu_before, cpu_after, pipeline_s, jobs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--copies", type=int, default=1, help="copies of each service (default 1)")
    parser.add_argument("--profile", action="store_true", help="CPU seconds per component during the burst")
    args = parser.parse_args()
    with private_stack("throughput", copies=args.copies) as (stack, tmp):
        (docs := tmp / "docs").mkdir()
        asyncio.run(measure(stack, docs, args.jobs, args.profile))


if __name__ == "__main__":
    main()
