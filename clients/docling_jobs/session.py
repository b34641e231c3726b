"""The API session a client works in: created on first use, then sent as a bearer token.

A token given explicitly (or in ``DOCLING_JOBS_TOKEN``) is used as is; otherwise the first request
is preceded by ``POST /api/v1/sessions`` and ``on_created`` hears the new token (the CLI remembers
it). A refused creation (429) raises ``RateLimited`` with the server's ``Retry-After``. A token the
server no longer knows is dropped by the client (``renew``) and a new session created, unless it was
given explicitly. Jobs belong to the session that submitted them.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Callable, Generator

import httpx

from docling_jobs.errors import error_for

SESSIONS_PATH = "/api/v1/sessions"
TOKEN_ENV = "DOCLING_JOBS_TOKEN"


class SessionAuth(httpx.Auth):
    """For both httpx clients (it reads the creation answer itself: asking httpx to read response
    bodies for the auth flow would also read every event stream to its end)."""

    def __init__(
        self,
        token: str | None = None,
        *,
        renewable: bool | None = None,
        on_created: Callable[[str], None] | None = None,
    ) -> None:
        explicit = token or os.environ.get(TOKEN_ENV) or None
        self.token = explicit
        self.renewable = explicit is None if renewable is None else renewable
        self._on_created = on_created or (lambda token: None)

    def renew(self) -> bool:
        """Forget a token the server refused; False when it was given explicitly (nothing to renew)."""
        if not self.renewable or self.token is None:
            return False
        self.token = None
        return True

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.token is None:
            created = yield self._creation(request)
            created.read()
            self._created(created)
        yield self._authorized(request)

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self.token is None:
            created = yield self._creation(request)
            await created.aread()
            self._created(created)
        yield self._authorized(request)

    @staticmethod
    def _creation(request: httpx.Request) -> httpx.Request:
        return httpx.Request("POST", request.url.copy_with(path=SESSIONS_PATH, query=None))

    def _created(self, created: httpx.Response) -> None:
        if created.status_code != 201:
            raise error_for(created)
        self.token = str(created.json()["session_id"])
        self._on_created(self.token)

    def _authorized(self, request: httpx.Request) -> httpx.Request:
        if self.token is not None:
            request.headers["Authorization"] = f"Bearer {self.token}"
        return request
