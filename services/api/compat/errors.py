"""Errors on the compat routes in docling-serve's shape: ``{"detail": "..."}`` (FastAPI's), plus
our application code and recovery action, which its clients ignore and people can read."""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.types import ExceptionHandlersMap

from services.api import problems
from services.api.compat.options import CompatError

log = logging.getLogger(__name__)


def _answer(
    status: int, detail: str, code: str, recovery: str | None = None, headers: dict | None = None
) -> Response:
    body = {"detail": detail, "code": code}
    if recovery:
        body["recovery"] = recovery
    return Response(body, status_code=status, media_type="application/json", headers=headers or {})


def on_compat(request: Request, exc: CompatError) -> Response:
    return _answer(exc.status, exc.detail, exc.code)


def on_problem(request: Request, exc: problems.Problem) -> Response:
    entry = exc.entry
    return _answer(entry.http_status, exc.detail, entry.code, entry.recovery, exc.headers)


def on_http_exception(request: Request, exc: HTTPException) -> Response:
    if isinstance(exc, NotFoundException):
        return _answer(404, "Not Found", "E104")
    if isinstance(exc, ValidationException):
        return _answer(422, problems._validation_detail(exc), "E100")
    if exc.status_code == 413:
        return on_problem(request, problems.Problem("E101"))
    return _answer(exc.status_code, str(exc.detail), "E100")


def on_unexpected(request: Request, exc: Exception) -> Response:
    if isinstance(exc, problems.UNAVAILABLE):
        log.warning("dependency unavailable", extra={"path": request.url.path, "error": type(exc).__name__})
        return on_problem(request, problems.Problem("E503"))
    log.exception("unhandled error", extra={"path": request.url.path})
    return on_problem(request, problems.Problem("E500"))


HANDLERS: ExceptionHandlersMap = {
    CompatError: on_compat,
    problems.Problem: on_problem,
    HTTPException: on_http_exception,
    Exception: on_unexpected,
}
