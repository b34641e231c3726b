"""Documents per second straight to an MCP server: the project's own (1 and 2 workers) and docling-mcp.

Each server gets its own freshly made small DOCX files (unique content: no cache hits), converted by
`--concurrency` MCP sessions at once. A document counts once `convert_document_into_docling_document` and
the exports the converter needs have answered (own server: Markdown, HTML, JSON; official: Markdown, and
`save_docling_document` for the JSON). Servers are started on free ports and stopped afterwards.

    .venv/bin/python -m bench.mcp_server_throughput                 # 50 documents, concurrency 8
    .venv/bin/python -m bench.mcp_server_throughput --docs 100 --concurrency 16 --only own-2
    .venv/bin/python -m bench.mcp_server_throughput --url http://127.0.0.1:8000/mcp --root .stack/uploads

Prints docs/s and latency percentiles. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from tests.documents import make_docx
from tests.integration.mcp_servers import (
    launch_official,
    launch_own,
    official_ready,
    own_ready,
    session,
)

OWN_EXPORTS = (
    "export_docling_document_to_markdown",
    "export_docling_document_to_html",
    "export_docling_document_to_json",
)
OFFICIAL_EXPORTS = ("export_docling_document_to_markdown", "save_docling_document")


async def one_session(
    url: str, paths: asyncio.Queue, exports: tuple[str, ...], latencies: list[float]
) -> None:
    async with session(url) as client:
        while not paths.empty():
            path = paths.get_nowait()
            started = time.perf_counter()
            converted = await client.call_tool(
                "convert_document_into_docling_document", {"source": str(path)}
            )
            assert not converted.is_error, converted.content
            key = converted.structured_content["document_key"]
            for tool in exports:
                assert not (await client.call_tool(tool, {"document_key": key})).is_error
            latencies.append(time.perf_counter() - started)


async def run(url: str, paths: list[Path], concurrency: int, exports: tuple[str, ...]) -> dict:
    queue: asyncio.Queue = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(one_session(url, queue, exports, latencies) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=10)
    return {
        "docs": len(latencies),
        "seconds": elapsed,
        "docs_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p90_ms": quantiles[-1] * 1000,
    }


def make_docs(folder: Path, count: int, prefix: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [make_docx(folder / f"{prefix}-{index:03d}.docx") for index in range(count)]


def bench_started(name: str, folder: Path, args: argparse.Namespace) -> dict:
    docs = folder / "docs"
    if name == "official":
        server, ready, exports = launch_official(folder), None, OFFICIAL_EXPORTS
        ready = official_ready(server)
    else:
        workers = name.split("-")[1]
        server = launch_own(folder, allowed_roots=str(docs), workers=workers)
        ready, exports = own_ready(server), OWN_EXPORTS
    try:
        server.wait_ready(ready, timeout=180)
        asyncio.run(run(server.url, make_docs(docs, 4, f"warm-{name}"), 2, exports))  # first-use costs
        return asyncio.run(run(server.url, make_docs(docs, args.docs, name), args.concurrency, exports))
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--only", choices=["own-1", "own-2", "official"], action="append")
    parser.add_argument("--url", help="a running server instead (own tools); needs --root it may read")
    parser.add_argument("--root", type=Path, help="with --url: a folder the server may read")
    args = parser.parse_args()
    print(f"{args.docs} small DOCX, concurrency {args.concurrency}")
    if args.url:
        paths = make_docs(args.root / "bench-throughput", args.docs, "url")
        report("given server", asyncio.run(run(args.url, paths, args.concurrency, OWN_EXPORTS)))
        return
    for name in args.only or ["own-1", "own-2", "official"]:
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as folder:
            report(name, bench_started(name, Path(folder), args))


def report(name: str, result: dict) -> None:
    print(
        f"{name:>12}: {result['docs_per_s']:6.1f} docs/s  ({result['docs']} in {result['seconds']:.2f} s; "
        f"p50 {result['p50_ms']:.0f} ms, p90 {result['p90_ms']:.0f} ms)",
        flush=True,
    )


if __name__ == "__main__":
    main()
