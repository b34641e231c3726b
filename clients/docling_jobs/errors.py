"""Errors the SDK raises, by kind: every problem+json answer and every transport failure becomes one.

- ``ApiError``: any problem+json answer (``status``, ``code``, ``detail``, ``recovery``, ``problem``);
  its kinds ``NotFound`` (404), ``RateLimited`` (429, with ``retry_after`` in seconds) and
  ``SessionRequired`` (401).
- ``ServerUnavailable``: the API cannot be reached, or answers 502/503/504.
- ``ConversionFailed``: the job ended without a result (``job_id``, ``code``, ``message``, ``recovery``).
All derive from ``DoclingJobsError``; no ``httpx`` exception leaves the SDK.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

import httpx

UNAVAILABLE_STATUSES = frozenset({502, 503, 504})
DEFAULT_RETRY_AFTER_S = 1.0


class DoclingJobsError(Exception):
    """Every error the SDK raises."""


class ServerUnavailable(DoclingJobsError):
    """The API could not be reached or said it is unavailable; retry later."""


class ApiError(DoclingJobsError):
    """A problem+json answer from the API."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status, self.problem = status, problem
        self.code: str = problem.get("code") or f"HTTP{status}"
        self.detail: str = problem.get("detail") or problem.get("title") or "error"
        self.recovery: str | None = problem.get("recovery")
        super().__init__(f"{self.code}: {self.detail}")


class NotFound(ApiError):
    """No such job (or not this session's)."""


class SessionRequired(ApiError):
    """The session is missing, unknown, ended or expired."""


class RateLimited(ApiError):
    """Too many requests: wait ``retry_after`` seconds."""

    def __init__(self, status: int, problem: dict[str, Any], retry_after: float) -> None:
        super().__init__(status, problem)
        self.retry_after = retry_after


class UnavailableAnswer(ApiError, ServerUnavailable):
    """A 502/503/504 answer: both an API answer and a server that is away."""


class ConversionFailed(DoclingJobsError):
    """The job ended without a result."""

    def __init__(self, job_id: str, code: str, message: str, recovery: str | None = None) -> None:
        self.job_id, self.code, self.message, self.recovery = job_id, code, message, recovery
        super().__init__(f"{code}: {message}" + (f" ({recovery})" if recovery else ""))


def retry_after_of(headers: httpx.Headers, now: float | None = None) -> float:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date); 1 s when absent or unreadable."""
    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return DEFAULT_RETRY_AFTER_S
    return max(0.0, when - (time.time() if now is None else now))


def error_for(response: httpx.Response) -> ApiError:
    """The exception for a failed answer whose body was read."""
    try:
        body = response.json()
    except ValueError:
        body = None
    problem = body if isinstance(body, dict) else {"title": response.text[:200]}
    status = response.status_code
    if status == 429:
        return RateLimited(status, problem, retry_after_of(response.headers))
    kinds: dict[int, type[ApiError]] = {404: NotFound, 401: SessionRequired}
    kind = UnavailableAnswer if status in UNAVAILABLE_STATUSES else kinds.get(status, ApiError)
    return kind(status, problem)


def checked(response: httpx.Response) -> httpx.Response:
    """The response if it succeeded, else its ``ApiError`` (the body is read even when streamed)."""
    if response.is_success:
        return response
    response.read()
    raise error_for(response)


async def checked_async(response: httpx.Response) -> httpx.Response:
    """``checked`` for an ``httpx.AsyncClient`` answer."""
    if response.is_success:
        return response
    await response.aread()
    raise error_for(response)
