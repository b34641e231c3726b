"""Who may call the MCP server: a client presents one of the shared secrets as a bearer token.

The secrets come from ``MCP_SERVER_TOKEN`` (comma-separated) and ``MCP_SERVER_TOKEN_FILE`` (one a
line). Each secret is one client; a client's identity (a hash of its secret) scopes its cached
documents. Every path but ``/health`` and ``/metrics`` needs a token; a request without one, or
with a wrong one, gets 401 before the MCP transport sees it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

OPEN_PATHS = frozenset({"/health", "/metrics"})
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="docling-mcp"'}


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class Clients:
    """The known clients, by the digest of their secret (compared in constant time)."""

    def __init__(self, tokens: Iterable[str]) -> None:
        self._known = [(_digest(t), _digest(t).hex()[:16]) for t in tokens if t.strip()]
        if not self._known:
            raise ValueError(
                "the MCP server needs a shared secret: set MCP_SERVER_TOKEN or MCP_SERVER_TOKEN_FILE"
            )

    def identify(self, headers: Mapping[str, str] | None) -> str | None:
        """The client id for a request's ``Authorization: Bearer <secret>``, or None."""
        scheme, _, token = ((headers or {}).get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        presented, found = _digest(token.strip()), None
        for digest, client in self._known:
            if hmac.compare_digest(digest, presented):
                found = client
        return found


class BearerAuth:
    """ASGI middleware: 401 for a request to a protected path without a known secret."""

    def __init__(self, app: ASGIApp, clients: Clients) -> None:
        self.app, self.clients = app, clients

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS:
            if self.clients.identify(Headers(scope=scope)) is None:
                refused = JSONResponse(
                    {"error": "unauthorized", "message": "send Authorization: Bearer <MCP server secret>"},
                    status_code=401,
                    headers=CHALLENGE,
                )
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)
