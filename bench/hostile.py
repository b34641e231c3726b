"""Hostile documents against a private stack: how each ends, how long it takes, what memory peaks at,
and how another session's small jobs fare meanwhile.

1. baseline: 10 small Markdown jobs from session B, one after another (p50, p95);
2. session A submits the generated hostile documents of tests/hostile.py (CSV bomb, PPTX with a huge
   part, zip-bomb DOCX, nested HTML, DOCX of 100,000 paragraphs, XML entity expansion) while B keeps
   converting small jobs one after another until A's have all ended;
3. prints each hostile job's end (event, code) and seconds to it, B's p50/p95 under attack and their
   ratio to the baseline, and the peak resident memory of every process of the stack (sampled every
   0.2 s) against the cap it must stay under (MCP workers: MCP_SERVER_WORKER_MEMORY_MB; every other
   process: --cap-mb). Asserts nothing.

    .venv/bin/python -m bench.hostile [--cap-mb 1024]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

from bench.jobs import submit_and_follow
from bench.stacks import private_stack
from devstack import Stack
from services.mcp_server.settings import McpServerSettings
from tests.documents import make_markdown
from tests.hostile import HOSTILE


async def one_job(http: httpx.AsyncClient, path: Path) -> tuple[str, str | None, float]:
    """(last event, its code, seconds from submit to it)."""
    ended = await submit_and_follow(http, path)
    return ended.event, ended.code, ended.seconds


class PeakMemory(threading.Thread):
    """The largest resident size seen for each process of the stack, by component."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(daemon=True)
        self.stack, self.peaks, self.stopping = stack, {}, threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.2):
            for label, rss in self.sample():
                self.peaks[label] = max(self.peaks.get(label, 0), rss)

    def sample(self) -> list[tuple[str, int]]:
        """(component, resident bytes) of every process of the stack now; an MCP worker as
        "mcp worker"."""
        leaders = {pid: name for name in self.stack.components if (pid := self.stack.pid(name))}
        return [
            ("mcp worker" if name == "mcp" and pid != group else name, rss)
            for pid, group, rss in processes()
            if (name := leaders.get(group)) is not None
        ]


def processes():
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            group = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2])
            rss = int((entry / "statm").read_text().split()[1]) * page
        except (OSError, ValueError, IndexError):
            continue
        yield int(entry.name), group, rss


async def small_stream(http: httpx.AsyncClient, folder: Path, until: asyncio.Event, least: int) -> list:
    results, n = [], 0
    while not until.is_set() or n < least:
        results.append(await one_job(http, make_markdown(folder / f"small-{time.monotonic_ns()}.md")))
        n += 1
    return results


def p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


async def measure(stack: Stack, folder: Path) -> dict:
    api = stack.urls.api
    tokens = [httpx.post(f"{api}/api/v1/sessions", timeout=30).json()["session_id"] for _ in range(2)]
    clients = [
        httpx.AsyncClient(base_url=api, timeout=300, headers={"Authorization": f"Bearer {t}"}) for t in tokens
    ]
    attacker, bystander = clients
    async with attacker, bystander:
        await small_stream(bystander, folder, asyncio.Event(), 3)  # warm-up
        done = asyncio.Event()
        done.set()
        baseline = await small_stream(bystander, folder, done, 10)
        done.clear()
        meanwhile = asyncio.create_task(small_stream(bystander, folder, done, 10))
        hostile = await asyncio.gather(
            *(one_job(attacker, maker(folder / name)) for maker, name, _ in HOSTILE.values())
        )
        done.set()
        return {"baseline": baseline, "meanwhile": await meanwhile, "hostile": hostile}


def report(found: dict, peaks: dict[str, int], cap_mb: int) -> None:
    for (name, (_, _, expected)), (event, code, seconds) in zip(
        HOSTILE.items(), found["hostile"], strict=True
    ):
        verdict = "ok" if (event, code) == ("ConversionFailed", expected) else f"expected {expected}"
        print(f"{name:26s} {event:20s} {code or '-':5s} {seconds:7.2f} s   {verdict}")
    base = [s for _, _, s in found["baseline"]]
    during = [s for e, _, s in found["meanwhile"]]
    ok = sum(e == "ConversionSucceeded" for e, _, _ in found["meanwhile"])
    print(f"small jobs, quiet     p50 {p(base, 50) * 1000:7.1f} ms   p95 {p(base, 95) * 1000:7.1f} ms")
    print(
        f"small jobs, attacked  p50 {p(during, 50) * 1000:7.1f} ms   p95 {p(during, 95) * 1000:7.1f} ms"
        f"   ({ok}/{len(during)} succeeded; p95 ratio to quiet {p(during, 95) / p(base, 95):.2f})"
    )
    worker_cap = McpServerSettings().worker_memory_mb
    for name, peak in sorted(peaks.items()):
        cap = worker_cap if name == "mcp worker" else cap_mb
        verdict = "ok" if peak < cap * 2**20 else "OVER"
        print(f"peak RSS {name:14s} {peak / 2**20:8.0f} MB   cap {cap} MB   {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cap-mb", type=int, default=1024, help="peak RSS cap of every non-worker process")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # each line as it is printed, also into a file
    with private_stack("hostile", share_fairly=True) as (stack, tmp):  # sessions A and B share fairly
        peaks = PeakMemory(stack)
        peaks.start()
        (folder := tmp / "docs").mkdir()
        found = asyncio.run(measure(stack, folder))
        peaks.stopping.set()
        report(found, peaks.peaks, args.cap_mb)


if __name__ == "__main__":
    main()
