"""The HTTP side of ``live``: the SSE stream and the polling requests, over httpx.

Failures worth retrying (network errors, 429 and 5xx answers, a stream that is not SSE) become
``ConnectionLost``; 204 becomes ``JobOver``; other 4xx answers raise ``ApiError``.

Polling asks ``GET /api/v1/jobs/{id}/events?after=<id>`` with ``Accept: application/json``. When the
server does not offer it (404, 406, an answer that is not JSON or not of the page's shape), or it
failed ``LIST_TRIES`` times in a row (a proxy blocking the events path), the transport polls
``GET /api/v1/jobs/{id}`` alone from then on: the job still finishes, with its state but without
the events it could not list.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import httpx
from httpx_sse import connect_sse

from docling_jobs.calls import job_path
from docling_jobs.errors import checked
from docling_jobs.events import JobEvent
from docling_jobs.live import ConnectionLost, JobOver, Poll, SseMessage

SSE_TIMEOUT = httpx.Timeout(30.0, read=60.0)  # the server sends a heartbeat every 15 s
UNLISTABLE = frozenset({404, 406})  # the events-after-id poll is not offered
LIST_TRIES = 3


def parse_page(body: dict[str, Any]) -> Poll:
    """``{"events": [{"id": n, "event": "Type", "data": <envelope>}...], "job": <state>}`` as a Poll."""
    events = [JobEvent(int(item["id"]), item["event"], item["data"]) for item in body.get("events", [])]
    return Poll(events, body.get("job") or {})


def _retryable(response: httpx.Response) -> None:
    if response.status_code == 429 or response.status_code >= 500:
        raise ConnectionLost(f"HTTP {response.status_code}")


def _is_json(response: httpx.Response) -> bool:
    return "json" in response.headers.get("content-type", "")


class HttpTransport:
    """``stream`` follows the SSE endpoint from an id; ``poll`` asks for events after an id and state."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.events_listable = True  # becomes False once the server shows it cannot list events
        self._list_failures = 0

    def stream(self, job_id: str, after: int) -> Generator[SseMessage, None, None]:
        headers = {"Last-Event-ID": str(after)} if after else {}
        try:
            with connect_sse(
                self.http, "GET", f"{job_path(job_id)}/events", headers=headers, timeout=SSE_TIMEOUT
            ) as source:
                if source.response.status_code == 204:
                    raise JobOver()
                _retryable(source.response)
                checked(source.response)
                for sse in source.iter_sse():
                    yield SseMessage(sse.event, sse.id, sse.data)
        except httpx.TransportError as error:  # includes httpx_sse.SSEError (not an event stream)
            raise ConnectionLost(str(error) or type(error).__name__) from error

    def poll(self, job_id: str, after: int) -> Poll:
        try:
            page = self._listed(job_id, after) if self.events_listable else None
            return page or Poll(None, self.job(job_id))
        except httpx.TransportError as error:
            raise ConnectionLost(str(error) or type(error).__name__) from error

    def _listed(self, job_id: str, after: int) -> Poll | None:
        """The events page; None (and never again) once the server cannot list events."""
        try:
            page = self._events_after(job_id, after)
        except (ConnectionLost, httpx.TransportError):
            self._list_failures += 1
            if self._list_failures < LIST_TRIES:
                raise
            page = None
        self._list_failures = 0
        self.events_listable = page is not None
        return page

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.http.get(job_path(job_id))
        _retryable(response)
        state: dict[str, Any] = checked(response).json()
        return state

    def _events_after(self, job_id: str, after: int) -> Poll | None:
        """The events-after-id page, or None when the server does not offer it (or not readably)."""
        with self.http.stream(
            "GET",
            f"{job_path(job_id)}/events",
            params={"after": after},
            headers={"Accept": "application/json"},
        ) as response:
            if response.status_code in UNLISTABLE or (response.status_code == 200 and not _is_json(response)):
                return None
            _retryable(response)
            checked(response).read()
        if response.status_code == 204:  # nothing after that id: the job is over
            return Poll([], self.job(job_id))
        try:
            page = parse_page(response.json())
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        return page if page.job else Poll(page.events, self.job(job_id))
