"""The API session a client works in: created on first use, then sent as a bearer token.

A token given explicitly (or in ``DOCLING_JOBS_TOKEN``) is used as is; otherwise the first request
is preceded by ``POST /api/v1/sessions``. Jobs belong to the session that submitted them, so a
client that should follow another client's jobs must share its token.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import httpx

SESSIONS_PATH = "/api/v1/sessions"
TOKEN_ENV = "DOCLING_JOBS_TOKEN"


class SessionAuth(httpx.Auth):
    """For the sync ``httpx.Client`` (it reads the creation answer itself: asking httpx to read
    response bodies for the auth flow would also read every event stream to its end)."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token or os.environ.get(TOKEN_ENV) or None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.token is None:
            created = yield httpx.Request("POST", request.url.copy_with(path=SESSIONS_PATH, query=None))
            created.read()
            if created.status_code == 201:
                self.token = created.json()["session_id"]
        if self.token is not None:
            request.headers["Authorization"] = f"Bearer {self.token}"
        yield request  # without a session the API answers 401, which the caller sees as ApiError
