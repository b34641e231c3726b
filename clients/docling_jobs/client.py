"""The synchronous client: a session, then submit, jobs, job, events, wait, result, cancel, convert.

``convert(source)`` does it all in one call: upload, follow the job to its end, download the result
(``Result``), or raise ``ConversionFailed`` with the job's code and recovery action.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from docling_jobs.backoff import Random
from docling_jobs.calls import DEFAULT_URL, MAX_RATE_WAIT_S, Retrying, attachment_name, base_url_of, job_path
from docling_jobs.errors import ApiError, ConversionFailed, DoclingJobsError, ServerUnavailable, checked
from docling_jobs.events import TERMINAL_EVENTS, JobEvent
from docling_jobs.live import LiveEvents
from docling_jobs.models import Job, Result, result_name
from docling_jobs.session import SessionAuth
from docling_jobs.sources import Source, upload_of
from docling_jobs.transport import HttpTransport

__all__ = ["DEFAULT_URL", "TERMINAL_EVENTS", "ApiError", "Client", "JobEvent", "WaitTimeout"]


class WaitTimeout(DoclingJobsError, TimeoutError):
    """``wait(timeout=)`` ran out before the job ended."""


class Client:
    """The API over ``httpx.Client``; ``transport``, ``sleep`` and ``rng`` are there for tests."""

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 30.0,
        *,
        token: str | None = None,
        on_token: Callable[[str], None] | None = None,
        renewable: bool | None = None,
        max_rate_wait_s: float = MAX_RATE_WAIT_S,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Random = random.random,
    ) -> None:
        """``base_url``: default ``DOCLING_JOBS_API_URL``, else http://127.0.0.1:3000. ``token``: an
        existing session (default ``DOCLING_JOBS_TOKEN``); else one is created and given to ``on_token``."""
        self.session = SessionAuth(token, renewable=renewable, on_created=on_token)
        self.http = httpx.Client(
            base_url=base_url_of(base_url), timeout=timeout, transport=transport, auth=self.session
        )
        self._sleep, self._rng, self._max_rate_wait_s = sleep, rng, max_rate_wait_s

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, url: str, opener: Callable[[], dict[str, Any]] | None = None,
             **kwargs: Any) -> httpx.Response:  # fmt: skip
        """One API call with the shared rules (``docling_jobs.calls``); ``opener`` builds fresh
        request arguments (an upload) for each try."""
        retrying = Retrying(self.session, self._max_rate_wait_s)
        while True:
            try:
                extra = opener() if opener else {}
                return checked(self.http.request(method, url, **kwargs, **extra))
            except ApiError as error:
                self._sleep(retrying.wait_for(error))
            except httpx.TransportError as error:
                raise ServerUnavailable(f"cannot reach {self.http.base_url}: {error}") from error

    def submit(self, source: Source, filename: str | None = None) -> Job:
        upload = upload_of(source, filename)
        answer = self.call(
            "POST", "/api/v1/jobs", lambda: {"files": {"file": (upload.filename, upload.open())}}
        )
        return Job.from_api(answer.json())

    def jobs(self, limit: int = 20, offset: int = 0) -> list[Job]:
        """A page of this session's jobs, newest first."""
        page = self.call("GET", "/api/v1/jobs", params={"limit": limit, "offset": offset}).json()
        return [Job.from_api(job) for job in page["jobs"]]

    def job(self, job_id: str) -> Job:
        return Job.from_api(self.status(job_id))

    def status(self, job_id: str) -> dict[str, Any]:
        """The job's state as the API answers it (``job`` gives it typed)."""
        answer: dict[str, Any] = self.call("GET", job_path(job_id)).json()
        return answer

    def cancel(self, job_id: str) -> Job:
        return Job.from_api(self.call("DELETE", job_path(job_id)).json())

    def result(self, job_id: str, fmt: str = "markdown") -> Result:
        answer = self.call("GET", f"{job_path(job_id)}/result", params={"format": fmt})
        name = attachment_name(answer.headers.get("content-disposition")) or result_name(None, fmt)
        return Result(job_id, fmt, answer.content, name)

    def events(
        self,
        job_id: str,
        after: int = 0,
        *,
        on_state: Callable[[dict[str, Any]], None] | None = None,
        on_notice: Callable[[str], None] | None = None,
    ) -> Iterator[JobEvent]:
        """The job's events after ``after``, each once and in order, until the job is over.

        Reconnects with ``Last-Event-ID`` on the seed's schedule, then polls every 2 s (announced
        through ``on_notice`` as "Using backup connection"). Job states (the stream's ``sync``
        event, polled states) go to ``on_state``. See ``docling_jobs.live``.
        """
        live = LiveEvents(HttpTransport(self.http), job_id, after, on_state=on_state, on_notice=on_notice,
                          sleep=self._sleep, rng=self._rng)  # fmt: skip
        return iter(live)

    def wait(self, job_id: str, timeout: float | None = None,
             on_event: Callable[[JobEvent], None] | None = None) -> Job:  # fmt: skip
        """Follow the job to its end and return its final state. ``timeout`` is checked at each
        event and state the server sends; past it ``WaitTimeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout

        def check(_: object = None) -> None:
            if deadline is not None and time.monotonic() > deadline:
                raise WaitTimeout(f"job {job_id} did not end within {timeout} s")

        try:
            for event in self.events(job_id, on_state=check):
                (on_event or check)(event)
                check()
        except httpx.TransportError as error:
            raise ServerUnavailable(str(error)) from error
        return self.job(job_id)

    def convert(self, source: Source, fmt: str = "markdown", *, filename: str | None = None,
                timeout: float | None = None) -> Result:  # fmt: skip
        """Upload ``source``, wait for the conversion, return the result in ``fmt``."""
        job = self.wait(self.submit(source, filename).job_id, timeout)
        return self.result_of(job, fmt)

    def result_of(self, job: Job, fmt: str) -> Result:
        """The result of a finished job, or its failure as ``ConversionFailed``."""
        raise_if_failed(job)
        result = self.result(job.job_id, fmt)
        if result.filename == result_name(None, fmt) and job.filename:
            return Result(result.job_id, fmt, result.content, result_name(job.filename, fmt))
        return result


def raise_if_failed(job: Job) -> None:
    if job.succeeded:
        return
    error = job.error
    code = error.code if error else job.status
    message = (error.message if error else None) or f"the job ended {job.status}"
    raise ConversionFailed(job.job_id, code, message, error.recovery if error else None)
