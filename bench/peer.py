"""docling-serve's clients, as a program uses them: submit a DOCX, learn that it is done, get the Markdown.

Three ways, each returning the Markdown (or raising): the asynchronous route followed on the status
WebSocket (``/v1/status/ws/{task_id}``), the asynchronous route polled every 0.1 s
(``/v1/status/poll/{task_id}``), and the synchronous ``/v1/convert/file``. Every request carries the
fields that make docling-serve convert DOCX without loading any model (``bench.compat_latency``).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from bench.compat_latency import SERVE_EXTRA

FORM = {"to_formats": "md", **SERVE_EXTRA}
FINISHED = frozenset({"success", "partial_success", "failure", "skipped"})
POLL_INTERVAL_S = 0.1


async def submit(http: httpx.AsyncClient, path: Path) -> str:
    """``POST /v1/convert/file/async``: the task's id."""
    answer = await http.post(
        "/v1/convert/file/async", files={"files": (path.name, path.read_bytes())}, data=FORM
    )
    answer.raise_for_status()
    return answer.json()["task_id"]


async def result_markdown(http: httpx.AsyncClient, task_id: str) -> str:
    answer = await http.get(f"/v1/result/{task_id}")
    answer.raise_for_status()
    return _markdown(answer.json())


async def by_websocket(http: httpx.AsyncClient, path: Path) -> str:
    """Submit, wait on the status WebSocket until the task has finished, fetch the result."""
    task_id = await submit(http, path)
    url = str(http.base_url).rstrip("/").replace("http", "ws", 1) + f"/v1/status/ws/{task_id}"
    async with connect(url) as socket:
        async for message in socket:
            update = json.loads(message)
            if update.get("message") == "error":
                raise RuntimeError(f"task {task_id}: {update.get('error')}")
            if (update.get("task") or {}).get("task_status") in FINISHED:
                break
        else:
            raise RuntimeError(f"task {task_id}: the WebSocket closed before the task finished")
    return await result_markdown(http, task_id)


async def by_polling(http: httpx.AsyncClient, path: Path) -> str:
    """Submit, then ask for the task's status at once and every 0.1 s until it has finished."""
    task_id = await submit(http, path)
    while True:
        answer = await http.get(f"/v1/status/poll/{task_id}")
        answer.raise_for_status()
        if answer.json()["task_status"] in FINISHED:
            return await result_markdown(http, task_id)
        await asyncio.sleep(POLL_INTERVAL_S)


async def synchronous(http: httpx.AsyncClient, path: Path) -> str:
    """``POST /v1/convert/file``: the answer holds the document."""
    answer = await http.post("/v1/convert/file", files={"files": (path.name, path.read_bytes())}, data=FORM)
    answer.raise_for_status()
    return _markdown(answer.json())


def _markdown(body: dict) -> str:
    if body.get("status") not in ("success", "partial_success"):
        raise RuntimeError(f"docling-serve answered status {body.get('status')}: {body.get('errors')}")
    return (body.get("document") or {}).get("md_content") or ""
