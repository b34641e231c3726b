"""Drive docling-jobs with docling's own docling-serve clients, unchanged; print what they got.

Run by ``test_docling_serve_clients.py`` with the MCP server's interpreter (``.venv-mcp``, which
has the ``docling`` package and its service client); it imports nothing of this project. Input: one
JSON argument ``{"url", "api_key", "files": [...], "async_file"}``; output: one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from docling.datamodel.service.options import ConvertDocumentsOptions
from docling.service_client import AsyncDoclingServiceClient, ChunkerKind, DoclingServiceClient, ServiceError


def sync_client(url: str, api_key: str) -> dict[str, Any]:
    files = [Path(f) for f in ARGS["files"]]
    with DoclingServiceClient(url=url, api_key=api_key, job_timeout=120) as client:
        converted = {p.name: client.convert(p).document.export_to_markdown() for p in files}
        every = {r.input.file.name: r.document.export_to_markdown() for r in client.convert_all(files)}
        try:
            client.convert(files[0], options=ConvertDocumentsOptions(do_picture_description=True))
            refused: dict[str, Any] = {"raised": None}
        except ServiceError as error:
            refused = {"raised": type(error).__name__, "status": error.status_code, "detail": error.detail}
        chunked = client.chunk(files[0], ChunkerKind.HIERARCHICAL)
        hybrid = client.chunk(files[0], ChunkerKind.HYBRID)
        return {
            "convert": converted,
            "chunk": [c.model_dump(mode="json") for c in chunked.chunks],
            "hybrid": [c.model_dump(mode="json") for c in hybrid.chunks],
            "convert_all": every,
            "invalid_option": refused,
            "health": client.health().status,
        }


async def async_client(url: str, api_key: str) -> dict[str, Any]:
    path = Path(ARGS["async_file"])
    async with AsyncDoclingServiceClient(url=url, api_key=api_key, job_timeout=120) as client:
        job = await client.submit(path)
        updates = [u.task_status for u in [s async for s in job.watch(timeout=120)]]
        result = await job.result(timeout=120)
        polled = await job.poll()
        return {
            "task_id": job.task_id,
            "statuses": updates,
            "polled": polled.task_status,
            "markdown": result.document.export_to_markdown(),
            "filename": path.name,
        }


ARGS = json.loads(sys.argv[1])

if __name__ == "__main__":
    out = sync_client(ARGS["url"], ARGS["api_key"])
    out["async"] = asyncio.run(async_client(ARGS["url"], ARGS["api_key"]))
    print(json.dumps(out))
