"""What the sync and async clients share: the rules around each call, no I/O of their own.

- ``Retry-After``: a 429 answer (also on session creation) is waited out and the call made again,
  as long as the waits of that call add up to at most ``max_rate_wait_s`` (then ``RateLimited``).
- A remembered session the server no longer knows (401) is replaced by a new one, once a call.
- A transport failure becomes ``ServerUnavailable``.
"""

from __future__ import annotations

import email.message
import os
from dataclasses import dataclass

from docling_jobs.errors import RateLimited, SessionRequired
from docling_jobs.session import SessionAuth

DEFAULT_URL = "http://127.0.0.1:3000"
URL_ENV = "DOCLING_JOBS_API_URL"
MAX_RATE_WAIT_S = 300.0


def base_url_of(given: str | None) -> str:
    return given or os.environ.get(URL_ENV) or DEFAULT_URL


def job_path(job_id: str) -> str:
    return f"/api/v1/jobs/{job_id}"


@dataclass
class Retrying:
    """One call's retry decisions: ``wait_for(error)`` is the seconds to wait before trying again,
    or re-raises the error when it should reach the caller."""

    session: SessionAuth
    max_rate_wait_s: float = MAX_RATE_WAIT_S
    waited_s: float = 0.0
    renewed: bool = False

    def wait_for(self, error: Exception) -> float:
        if isinstance(error, RateLimited) and self.waited_s + error.retry_after <= self.max_rate_wait_s:
            self.waited_s += error.retry_after
            return error.retry_after
        if isinstance(error, SessionRequired) and not self.renewed and self.session.renew():
            self.renewed = True
            return 0.0
        raise error


def attachment_name(disposition: str | None) -> str | None:
    """The file name a ``Content-Disposition`` header gives (RFC 6266, ``filename*`` first)."""
    if not disposition:
        return None
    message = email.message.Message()
    message["content-disposition"] = disposition
    name = message.get_filename()
    return os.path.basename(name) if name else None
