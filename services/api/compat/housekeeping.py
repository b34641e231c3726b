"""docling-serve's housekeeping routes: ``/v1/clear/*``, ``/ready``, ``/version``."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Annotated

from litestar import Controller, Response, get
from litestar.di import Provide
from litestar.params import Parameter

from services.api import health
from services.api.compat import errors, models
from services.api.compat.auth import Caller, current_caller
from services.api.compat.options import CompatError
from services.api.deps import Services


class ClearController(Controller):
    """``/v1/clear/*``: docling-serve frees converters and old task results. Our converters live in
    the MCP server and our results are durable jobs, so ``converters`` has nothing to do and
    ``results`` forgets the caller's task ids older than ``older_then`` seconds (default 3600, its
    parameter name); their jobs and results stay on our own routes."""

    path = "/v1/clear"
    tags = ["docling-serve"]
    include_in_schema = False
    dependencies = {"caller": Provide(current_caller)}
    exception_handlers = errors.HANDLERS
    opt = {"rate": "job"}

    @get("/converters", operation_id="compatClearConverters", summary="docling-serve: nothing to clear")
    async def converters(self, caller: Caller) -> models.StatusOk:
        return models.StatusOk()

    @get("/results", operation_id="compatClearResults", summary="docling-serve: forget old task ids")
    async def results(
        self, deps: Services, caller: Caller, older_then: Annotated[float, Parameter(ge=0)] = 3600.0
    ) -> models.StatusOk:
        await deps.tasks.forget_older_than(caller.owner, older_then)
        return models.StatusOk()


def versions() -> dict[str, str]:
    """docling-serve answers the versions of its docling packages; ours, and what we speak."""
    found = {"docling-jobs": _version("docling-jobs"), "docling-core": _version("docling-core")}
    return {**found, "docling-serve-api": "v1 (docling-serve 1.38.2)", "python": platform.python_version()}


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


class ServiceController(Controller):
    """``/ready`` and ``/version``; ``/health`` is our own health report (docling-serve's clients
    read only its ``status``)."""

    path = "/"
    tags = ["docling-serve"]
    include_in_schema = False
    exception_handlers = errors.HANDLERS

    @get("/ready", operation_id="compatReady", summary="docling-serve: ready to convert")
    async def ready(self, deps: Services) -> Response:
        report = await health.check(deps)
        if report.status == "unhealthy":
            raise CompatError(503, "Not ready: PostgreSQL or NATS does not answer.", "E503")
        return Response(models.StatusOk().model_dump())

    @get("/version", operation_id="compatVersion", summary="docling-serve: versions")
    async def version(self) -> dict[str, str]:
        return versions()
