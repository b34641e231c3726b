"""A small client for the public HTTP API: submit, status, events, result."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from httpx_sse import connect_sse

TERMINAL_EVENTS = frozenset({"ConversionSucceeded", "ConversionFailed", "UploadRejected"})
DEFAULT_URL = "http://127.0.0.1:3000"


class ApiError(Exception):
    """A problem+json answer from the API."""

    def __init__(self, status: int, problem: dict) -> None:
        self.status, self.problem = status, problem
        self.code = problem.get("code", f"HTTP{status}")
        super().__init__(f"{self.code}: {problem.get('detail') or problem.get('title', 'error')}")


@dataclass(frozen=True)
class JobEvent:
    id: int
    type: str
    envelope: dict

    @property
    def data(self) -> dict:
        return self.envelope.get("data", {})

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL_EVENTS


class Client:
    def __init__(self, base_url: str = DEFAULT_URL, timeout: float = 30.0) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def submit(self, path: Path) -> dict:
        with path.open("rb") as handle:
            return self._ok(self.http.post("/api/v1/jobs", files={"file": (path.name, handle)})).json()

    def status(self, job_id: str) -> dict:
        return self._ok(self.http.get(f"/api/v1/jobs/{job_id}")).json()

    def result(self, job_id: str, fmt: str = "markdown") -> bytes:
        return self._ok(self.http.get(f"/api/v1/jobs/{job_id}/result", params={"format": fmt})).content

    def events(self, job_id: str, after: int = 0, max_reconnects: int = 10) -> Iterator[JobEvent]:
        """The job's events in order, resuming with Last-Event-ID when the stream drops."""
        for _ in range(max_reconnects + 1):
            headers = {"Last-Event-ID": str(after)} if after else {}
            with connect_sse(self.http, "GET", f"/api/v1/jobs/{job_id}/events",
                             headers=headers, timeout=httpx.Timeout(30.0, read=60.0)) as source:
                if source.response.status_code == 204:
                    return
                self._ok(source.response)
                for sse in source.iter_sse():
                    if not sse.id or not sse.data:  # comments, heartbeats, the retry hint
                        continue
                    event = JobEvent(int(sse.id), sse.event, json.loads(sse.data))
                    after = event.id
                    yield event
                    if event.terminal:
                        return

    @staticmethod
    def _ok(response: httpx.Response) -> httpx.Response:
        if response.is_success:
            return response
        response.read()
        try:
            problem = response.json()
        except ValueError:
            problem = {"title": response.text[:200]}
        raise ApiError(response.status_code, problem)
