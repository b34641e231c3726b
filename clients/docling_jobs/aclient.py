"""The asynchronous client: the same calls as ``Client`` over ``httpx.AsyncClient``.

Following a job (``wait``) runs the synchronous event reader (``docling_jobs.live``: SSE with the
seed's reconnection schedule, then polling) in a worker thread, in the same session, so both clients
follow jobs by the same rules.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import httpx

from docling_jobs.backoff import Random
from docling_jobs.calls import MAX_RATE_WAIT_S, Retrying, attachment_name, base_url_of, job_path
from docling_jobs.client import Client, raise_if_failed
from docling_jobs.errors import ApiError, ServerUnavailable, checked_async
from docling_jobs.events import JobEvent
from docling_jobs.models import Job, Result, result_name
from docling_jobs.session import SessionAuth
from docling_jobs.sources import Source, upload_of


class AsyncClient:
    """``async with AsyncClient() as client: result = await client.convert("report.docx")``."""

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 30.0,
        *,
        token: str | None = None,
        on_token: Callable[[str], None] | None = None,
        max_rate_wait_s: float = MAX_RATE_WAIT_S,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: Random = random.random,
    ) -> None:
        self.session = SessionAuth(token, on_created=on_token)
        self.http = httpx.AsyncClient(
            base_url=base_url_of(base_url), timeout=timeout, transport=transport, auth=self.session
        )
        self._timeout, self._rng, self._max_rate_wait_s = timeout, rng, max_rate_wait_s

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def call(self, method: str, url: str, opener: Callable[[], dict[str, Any]] | None = None,
                   **kwargs: Any) -> httpx.Response:  # fmt: skip
        retrying = Retrying(self.session, self._max_rate_wait_s)
        while True:
            try:
                extra = opener() if opener else {}
                return await checked_async(await self.http.request(method, url, **kwargs, **extra))
            except ApiError as error:
                await asyncio.sleep(retrying.wait_for(error))
            except httpx.TransportError as error:
                raise ServerUnavailable(f"cannot reach {self.http.base_url}: {error}") from error

    async def submit(self, source: Source, filename: str | None = None) -> Job:
        upload = upload_of(source, filename)
        answer = await self.call(
            "POST", "/api/v1/jobs", lambda: {"files": {"file": (upload.filename, upload.open())}}
        )
        return Job.from_api(answer.json())

    async def job(self, job_id: str) -> Job:
        return Job.from_api((await self.call("GET", job_path(job_id))).json())

    async def cancel(self, job_id: str) -> Job:
        return Job.from_api((await self.call("DELETE", job_path(job_id))).json())

    async def result(self, job_id: str, fmt: str = "markdown") -> Result:
        answer = await self.call("GET", f"{job_path(job_id)}/result", params={"format": fmt})
        name = attachment_name(answer.headers.get("content-disposition")) or result_name(None, fmt)
        return Result(job_id, fmt, answer.content, name)

    async def wait(self, job_id: str, timeout: float | None = None,
                   on_event: Callable[[JobEvent], None] | None = None) -> Job:  # fmt: skip
        """Follow the job to its end (in a worker thread, same session) and return its final state."""
        await self._ensure_session()
        follower = Client(str(self.http.base_url), self._timeout, token=self.session.token, rng=self._rng)
        with follower:
            await asyncio.to_thread(follower.wait, job_id, timeout, on_event)
        return await self.job(job_id)

    async def convert(self, source: Source, fmt: str = "markdown", *, filename: str | None = None,
                      timeout: float | None = None) -> Result:  # fmt: skip
        job = await self.wait((await self.submit(source, filename)).job_id, timeout)
        raise_if_failed(job)
        result = await self.result(job.job_id, fmt)
        if result.filename == result_name(None, fmt) and job.filename:
            return Result(result.job_id, fmt, result.content, result_name(job.filename, fmt))
        return result

    async def _ensure_session(self) -> None:
        if self.session.token is None:
            await self.call("GET", "/api/v1/sessions/current")
