"""Every error a client sees: RFC 9457 problem+json with an application code."""

from __future__ import annotations

import logging

import asyncpg
import redis.exceptions
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException

from contracts import errors
from runtime import bus
from runtime.outages import BUS_OUTAGES

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"
# a dependency that is down or not ready yet: 503, never a 500
UNAVAILABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.UndefinedTableError,
    asyncpg.CannotConnectNowError,
    redis.exceptions.ConnectionError,
    *bus.LEADERLESS,  # a NATS cluster electing a stream leader
)
RETRY_AFTER_S = 5  # the Retry-After of every 503 (a dependency away; clients come back then)
BUS_DETAIL = "The job queue is unreachable right now; the request was not carried out."


class Problem(Exception):
    """Raise with an application code; the handler renders it."""

    def __init__(self, code: str, detail: str | None = None, headers: dict | None = None) -> None:
        super().__init__(code)
        self.entry = errors.get(code)
        self.detail = detail or self.entry.message
        self.headers = headers or {}


def render(request: Request, problem: Problem) -> Response:
    entry = problem.entry
    if entry.http_status == 503:  # a dependency is away: say when to come back
        problem.headers.setdefault("Retry-After", str(RETRY_AFTER_S))
    body = {
        "type": f"https://docling-jobs.dev/problems/{entry.code}",
        "title": entry.title,
        "status": entry.http_status,
        "detail": problem.detail,
        "code": entry.code,
        "recovery": entry.recovery,
        "instance": request.url.path,
    }
    return Response(
        body,
        status_code=entry.http_status,
        media_type=MEDIA_TYPE,
        headers={**problem.headers, **_closing(request)},
    )


def _closing(request: Request) -> dict[str, str]:
    """A refused request may still be sending its body (an upload refused while it streams):
    ``Connection: close`` makes the server drop the connection instead of reading the rest."""
    return {"Connection": "close"} if request.method in ("POST", "PUT", "PATCH") else {}


def on_problem(request: Request, exc: Problem) -> Response:
    return render(request, exc)


def on_http_exception(request: Request, exc: HTTPException) -> Response:
    if isinstance(exc, NotFoundException):
        return render(request, Problem("E104", "Nothing lives at this address."))
    if isinstance(exc, ValidationException):
        return render(request, Problem("E100", _validation_detail(exc)))
    if exc.status_code == 413:
        return render(request, Problem("E101"))
    problem = Problem("E100", exc.detail)
    return Response(
        {**render(request, problem).content, "status": exc.status_code},
        status_code=exc.status_code,
        media_type=MEDIA_TYPE,
        headers=_closing(request),
    )


def on_unexpected(request: Request, exc: Exception) -> Response:
    if isinstance(exc, BUS_OUTAGES):
        log.warning("NATS unavailable", extra={"path": request.url.path, "error": type(exc).__name__})
        return render(request, Problem("E503", BUS_DETAIL))
    if isinstance(exc, UNAVAILABLE):
        log.warning("dependency unavailable", extra={"path": request.url.path, "error": type(exc).__name__})
        return render(request, Problem("E503"))
    log.exception("unhandled error", extra={"path": request.url.path})
    return render(request, Problem("E500"))


def _validation_detail(exc: ValidationException) -> str:
    extra = exc.extra if isinstance(exc.extra, list) else []
    parts = [
        f"{e.get('key', 'request')}: {e.get('message', 'invalid')}" for e in extra if isinstance(e, dict)
    ]
    return "; ".join(parts) or "The request is malformed."


HANDLERS = {Problem: on_problem, HTTPException: on_http_exception, Exception: on_unexpected}
