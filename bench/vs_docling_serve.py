"""docling-jobs against docling-serve on the same cores, the same documents, in one run (issue 19).

Starts a private stack (our pipeline and our MCP server, one copy of each service) and uses a
docling-serve that is already running (``--peer``; installed and started with the recipe in
shared/peer/docling-serve/). For each of ``--rounds`` rounds it makes fresh unique small DOCX
(``tests.documents.make_docx``: heading, paragraph, bullets, a small table; about 37 KB), the same
for every system in the round, and runs, interleaved (the order turns by one each round):

- docling-serve, asynchronous route, status by WebSocket;
- docling-serve, asynchronous route, status polled every 0.1 s;
- docling-serve, synchronous ``/v1/convert/file`` (sequential only: it checks its task every 2 s);
- our pipeline as a user drives it (upload, SSE to the terminal event, Markdown download);
- our MCP server alone (convert, then export Markdown), a new MCP session per document;
- our MCP server alone, one MCP session shared by every document of the pass.

Each does ``--jobs`` documents at once (jobs per second, first submit to last Markdown in hand), and
``--sequential`` documents one at a time (median from submit to Markdown). Every Markdown is checked
to hold its document's heading and text; a miss or an error counts as a failure. Our MCP server's
cache is emptied before each of our passes, so nothing is answered from it. Then docling's own time
for the same documents in a warm process (``bench.docling_own``, in the MCP server's venv), the table,
the four ratios of the issue against their targets, and a profile of one more burst through the
pipeline: CPU ms per job of every component from /proc (``bench.cpu_profile``), and with ``--py-spy``
the hottest functions of each Python component. Prints numbers; asserts nothing.

    .venv/bin/python -m bench.vs_docling_serve --peer http://127.0.0.1:5001 \\
        [--rounds 3] [--jobs 50] [--sequential 20] [--py-spy /tmp/pyspy/bin/py-spy]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from bench import py_spy
from bench.stacks import private_stack
from bench.vs_systems import Doc, Results, Systems, make_docs, run_pass
from devstack import Stack
from devstack.layout import REPO_ROOT

PYTHON_COMPONENTS = ("api", "ingest", "converter", "progress", "mcp")


async def measure(stack: Stack, peer: str, scratch: Path, args: argparse.Namespace) -> None:
    root = stack.layout.uploads / "bench-vs-serve"  # our MCP server may read only under UPLOAD_DIR
    async with Systems.opened(stack, peer, 4 * args.jobs) as systems:
        print("warming up every system ...", file=sys.stderr)
        await systems.warm(make_docs(root / "warm", 3))
        results, own_docs = Results(), make_docs(root / "own-warm", 3)
        for round_ in range(args.rounds):
            burst = make_docs(root / f"r{round_}-burst", args.jobs)
            one_by_one = make_docs(root / f"r{round_}-sequential", args.sequential)
            own_docs += one_by_one
            for name in systems.order(round_):
                print(f"round {round_ + 1}: {name} ...", file=sys.stderr)
                if name in systems.concurrent:
                    cpu_of = stack if name == "pipeline" else None
                    await run_pass(systems, name, burst, results, concurrent=True, cpu_of=cpu_of)
                await run_pass(systems, name, one_by_one, results, concurrent=False)
        own = docling_own(own_docs)
        print(results.table(args.jobs, systems.labels))
        print(results.ratios(own))
        print(f"\nThe rounds' {args.rounds} pipeline bursts above (no sampler), their CPU:")
        print(results.cpu_report())
        print(await profile(stack, systems, make_docs(root / "profile", args.jobs), scratch, args))


def docling_own(docs: list[Doc]) -> dict[str, list[float]]:
    """docling's own ms per document in a warm process (the first three docs warm it up)."""
    command = [str(REPO_ROOT / ".venv-mcp" / "bin" / "python"), "-m", "bench.docling_own", "--warmup", "3"]
    done = subprocess.run(
        command + [str(doc.path) for doc in docs], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


async def profile(
    stack: Stack, systems: Systems, docs: list[Doc], scratch: Path, args: argparse.Namespace
) -> str:
    """One more burst through the pipeline, its CPU per component (and, with py-spy, per function)."""
    pids = {name: pid for name in PYTHON_COMPONENTS if (pid := stack.pid(name)) is not None}
    sampler = py_spy.Sampler(args.py_spy, pids, scratch) if args.py_spy else None
    results = Results()
    with sampler or contextlib.nullcontext():
        wall_s = await run_pass(systems, "pipeline", docs, results, concurrent=True, cpu_of=stack)
    lines = [
        f"\nProfile: one more burst of {len(docs)} through the pipeline "
        f"({len(docs) / wall_s:.1f} jobs/s{', py-spy sampling' if sampler else ''}; "
        f"failures {results.failures['pipeline']})",
        results.cpu_report(),
    ]
    if sampler:
        lines.append(sampler.report(len(docs)))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--peer", required=True, help="a running docling-serve, e.g. http://127.0.0.1:5001")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=50, help="documents at once in each concurrent pass")
    parser.add_argument("--sequential", type=int, default=20, help="documents one at a time in each pass")
    parser.add_argument("--py-spy", default=shutil.which("py-spy"), help="py-spy binary (default: on PATH)")
    args = parser.parse_args()
    httpx.get(f"{args.peer}/health", timeout=10).raise_for_status()
    with private_stack("vs-serve") as (stack, scratch):
        asyncio.run(measure(stack, args.peer.rstrip("/"), scratch, args))


if __name__ == "__main__":
    main()
