"""Time the same documents through the whole pipeline and straight to the MCP server.

Pipeline: upload -> terminal SSE event -> Markdown downloaded (all four services, NATS, Valkey,
PostgreSQL, the MCP server). Direct: one MCP session doing the tool calls the converter makes
(convert, export Markdown, save JSON). Documents run one at a time, alternating pipeline and
direct. The server caches conversions by content, so each side gets its own document of the same
kind and shape (made by the same generator, differing in a random token): neither is a cache hit.

    .venv/bin/python -m bench.pipeline_vs_direct            # starts a private stack on free ports
    .venv/bin/python -m bench.pipeline_vs_direct --api-url http://127.0.0.1:3000 \
        --mcp-url http://127.0.0.1:8000/mcp --upload-dir .stack/uploads   # a running stack (make up)

A private stack runs with the rate limits lifted; a running stack keeps its own (start it with
`API_RATE_LIMIT_SUBMIT=1000/60` or the 45 submissions pass the default 30 a minute).

The direct documents are written under the upload folder: the project's own MCP server reads
paths only there.

Prints medians, p90s and the ratio of medians (target: at most 1.25). Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

from docling_jobs.client import Client
from tests.documents import MAKERS
from tests.integration.mcp_servers import session as mcp_session


def through_pipeline(client: Client, path: Path) -> float:
    started = time.perf_counter()
    job = client.submit(path)
    last = None
    for event in client.events(job.job_id):
        last = event
    assert last is not None and last.type == "ConversionSucceeded", last
    client.result(job.job_id, "markdown")
    return time.perf_counter() - started


async def straight_to_server(mcp_url: str, path: Path, token: str) -> float:
    started = time.perf_counter()
    async with mcp_session(mcp_url, token) as session:
        converted = await session.call_tool("convert_document_into_docling_document", {"source": str(path)})
        key = converted.structured_content["document_key"]
        await session.call_tool("export_docling_document_to_markdown", {"document_key": key})
        tools = {tool.name for tool in (await session.list_tools()).tools}
        if {"export_docling_document_to_html", "export_docling_document_to_json"} <= tools:  # ours
            await session.call_tool("export_docling_document_to_json", {"document_key": key})
            await session.call_tool("export_docling_document_to_html", {"document_key": key})
        else:  # the official server: what the converter does with it
            await session.call_tool("save_docling_document", {"document_key": key})
    return time.perf_counter() - started


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


def run(api_url: str, mcp_url: str, token: str, rounds: int, workdir: Path, direct_dir: Path) -> None:
    pipeline, direct, kinds = [], [], []
    with Client(api_url, timeout=120) as client:
        for kind, make in MAKERS.items():  # warm-up: first conversions load docling's pieces
            through_pipeline(client, make(workdir / f"warm.{kind}"))
            asyncio.run(straight_to_server(mcp_url, make(direct_dir / f"warm-direct.{kind}"), token))
        for n in range(rounds):
            for kind, make in MAKERS.items():
                doc, twin = make(workdir / f"doc{n}.{kind}"), make(direct_dir / f"bench-{n}-direct.{kind}")
                pipeline.append(through_pipeline(client, doc))
                direct.append(asyncio.run(straight_to_server(mcp_url, twin, token)))
                kinds.append(kind)
    report(pipeline, direct, kinds)


def report(pipeline: list[float], direct: list[float], kinds: list[str]) -> None:
    for kind in sorted(set(kinds)):
        p = statistics.median(t for t, k in zip(pipeline, kinds, strict=False) if k == kind)
        d = statistics.median(t for t, k in zip(direct, kinds, strict=False) if k == kind)
        print(f"{kind:5} pipeline {p * 1000:7.1f} ms  direct {d * 1000:7.1f} ms  ratio {p / d:5.2f}")
    mp, md = statistics.median(pipeline), statistics.median(direct)
    print(f"documents          {len(pipeline)} (docx, pptx, xlsx, html, md; one at a time)")
    print(f"pipeline  median   {mp * 1000:8.1f} ms   p90 {p90(pipeline) * 1000:8.1f} ms")
    print(f"direct    median   {md * 1000:8.1f} ms   p90 {p90(direct) * 1000:8.1f} ms")
    print(f"overhead  median   {(mp - md) * 1000:8.1f} ms")
    print(f"ratio of medians   {mp / md:8.3f}   (target <= 1.25)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--api-url")
    parser.add_argument("--mcp-url")
    parser.add_argument(
        "--upload-dir",
        type=Path,
        default=Path(".stack/uploads"),
        help="the running stack's UPLOAD_DIR (with --api-url)",
    )
    parser.add_argument(
        "--mcp-token-file",
        type=Path,
        default=Path(".stack/secrets/mcp-token"),
        help="the running stack's MCP server secret (with --mcp-url)",
    )
    parser.add_argument("--rounds", type=int, default=8, help="documents per format (default 8)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, contextlib.ExitStack() as stack:
        api_url, mcp_url, direct_dir = args.api_url, args.mcp_url, args.upload_dir
        token_file = args.mcp_token_file
        if not (api_url and mcp_url):
            from devstack import Ports, Stack
            from tests.limits import lift_rate_limits

            lift_rate_limits()  # 45 submissions in about a minute: past the default submit limit
            running = Stack(Path(tmp) / "stack", Ports.free())
            stack.callback(running.purge)
            print("starting a private stack ...", file=sys.stderr)
            running.start()
            api_url, mcp_url, direct_dir = running.urls.api, running.urls.mcp, running.layout.uploads
            token_file = running.layout.mcp_token
        workdir = Path(tmp) / "docs"
        workdir.mkdir()
        direct_dir.mkdir(parents=True, exist_ok=True)
        run(api_url, mcp_url, token_file.read_text().strip(), args.rounds, workdir, direct_dir)


if __name__ == "__main__":
    main()
