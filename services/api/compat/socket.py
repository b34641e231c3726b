"""``WS /v1/status/ws/{task_id}``: a task's state pushed as it changes (docling-serve's protocol).

The server sends ``{"message": "connection", "task": ...}`` once, then ``{"message": "update",
"task": ...}`` each time a job of the task ends (awaited on the event log, never polled), the last
one terminal, then closes. The ``next`` docling's client sends after each update is not needed.
"""

from __future__ import annotations

from litestar import Controller, WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from services.api.compat import models, service
from services.api.compat.auth import identified, websocket_token
from services.api.compat.controllers import load_task
from services.api.compat.options import CompatError
from services.api.compat.outcomes import Watch
from services.api.compat.tasks import Task
from services.api.deps import Deps, Services

TERMINAL = frozenset({"success", "failure"})
QUIET_S = 30.0  # at most this long between two updates (the same state again: the task lives)


async def _send(
    socket: WebSocket, kind: str, task: models.TaskStatusResponse | None = None, error: str | None = None
) -> None:
    message = {"message": kind, "task": task.model_dump(mode="json") if task else None, "error": error}
    await socket.send_json(message)


async def _state(deps: Deps, task: Task, watch: Watch) -> models.TaskStatusResponse:
    job_ids = list(task.job_ids)
    started = bool(watch.outcomes) or await deps.outcomes.started(job_ids[0])
    return service.task_status(task.task_id, job_ids, dict(watch.outcomes), started, task.task_type)


async def _push(socket: WebSocket, deps: Deps, task: Task) -> None:
    """``connection``, then an ``update`` per change, the last one terminal."""
    async with deps.outcomes.watching(list(task.job_ids)) as watch:
        seen, now = watch.version, await _state(deps, task, watch)
        await _send(socket, "connection", now)
        while now.task_status not in TERMINAL:
            await _send(socket, "update", now)
            await watch.any_change(seen, QUIET_S)
            seen, now = watch.version, await _state(deps, task, watch)
        await _send(socket, "update", now)


class StatusSocketController(Controller):
    path = "/v1/status/ws"
    include_in_schema = False

    @websocket("/{task_id:str}", opt={"rate": "events"})
    async def status(self, socket: WebSocket, deps: Services, task_id: str) -> None:
        await socket.accept()
        try:
            caller = await identified(socket, deps, websocket_token(socket), "events")
            task = await load_task(deps, task_id, caller)
        except CompatError as error:
            await _send(socket, "error", error=error.detail)
            await socket.close()
            return
        try:
            await _push(socket, deps, task)
        except WebSocketDisconnect:  # the client went away: nothing more to tell it
            return
        await socket.close()
