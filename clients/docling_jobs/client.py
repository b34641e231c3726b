"""A small client for the public HTTP API: a session, then submit, list, status, events, result, cancel."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from clients.docling_jobs.backoff import Random
from clients.docling_jobs.errors import ApiError, checked
from clients.docling_jobs.events import TERMINAL_EVENTS, JobEvent
from clients.docling_jobs.live import LiveEvents
from clients.docling_jobs.session import SessionAuth
from clients.docling_jobs.transport import HttpTransport, job_path

__all__ = ["DEFAULT_URL", "TERMINAL_EVENTS", "ApiError", "Client", "JobEvent"]

DEFAULT_URL = "http://127.0.0.1:3000"


class Client:
    """The API over httpx; ``transport``, ``sleep`` and ``rng`` are there for tests."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        timeout: float = 30.0,
        *,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Random = random.random,
    ) -> None:
        """``token``: an existing session (default ``DOCLING_JOBS_TOKEN``); else one is created."""
        self.session = SessionAuth(token)
        self.http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport, auth=self.session)
        self._sleep, self._rng = sleep, rng

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def submit(self, path: Path) -> dict:
        with path.open("rb") as handle:
            return checked(self.http.post("/api/v1/jobs", files={"file": (path.name, handle)})).json()

    def jobs(self, limit: int = 20, offset: int = 0) -> dict:
        """A page of this session's jobs, newest first: ``{"jobs": [...], "next": url|None, ...}``."""
        return checked(self.http.get("/api/v1/jobs", params={"limit": limit, "offset": offset})).json()

    def cancel(self, job_id: str) -> dict:
        return checked(self.http.delete(job_path(job_id))).json()

    def status(self, job_id: str) -> dict:
        return checked(self.http.get(job_path(job_id))).json()

    def result(self, job_id: str, fmt: str = "markdown") -> bytes:
        return checked(self.http.get(f"{job_path(job_id)}/result", params={"format": fmt})).content

    def events(
        self,
        job_id: str,
        after: int = 0,
        *,
        on_state: Callable[[dict], None] | None = None,
        on_notice: Callable[[str], None] | None = None,
    ) -> Iterator[JobEvent]:
        """The job's events after ``after``, each once and in order, until the job is over.

        Reconnects with ``Last-Event-ID`` on the seed's schedule, then polls every 2 s (announced
        through ``on_notice`` as "Using backup connection"). Job states (the stream's ``sync``
        event, polled states) go to ``on_state``. See ``clients.docling_jobs.live``.
        """
        return iter(
            LiveEvents(
                HttpTransport(self.http),
                job_id,
                after,
                on_state=on_state,
                on_notice=on_notice,
                sleep=self._sleep,
                rng=self._rng,
            )
        )
