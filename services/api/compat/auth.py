"""Who is asking on the compat routes: docling-serve's ``X-Api-Key`` header, or a bearer token.

The value is an operator-issued API key (``dj_...``, ``python -m services.api.keys``) or a session
id, exactly as on our own routes (``guard.caller_of``); the caller's owner hash decides which tasks
and jobs it sees. Then the route's rate limit (the key's own where it has one).
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request
from litestar.connection import ASGIConnection

from services.api import guard
from services.api.compat.options import CompatError
from services.api.deps import Deps, Services

UNAUTHORIZED = "Invalid or missing API key: send X-Api-Key with an API key or a session id."


@dataclass(frozen=True)
class Caller:
    owner: str  # what the caller's jobs record as their owner
    subject: str  # what its rate-limit windows are counted under


async def current_caller(request: Request, deps: Services) -> Caller:
    """401 ``{"detail": ...}`` without a valid key (docling-serve answers a wrong key so too)."""
    return await identified(request, deps, guard.presented(request), request.route_handler.opt["rate"])


async def identified(connection: ASGIConnection, deps: Deps, token: str | None, endpoint: str) -> Caller:
    found = await guard.caller_of(deps, token) if token else None
    if found is None:
        raise CompatError(401, UNAUTHORIZED, "E112")
    session, own = found
    await guard.limit(connection, deps, session.session_id, endpoint, own)
    return Caller(session.owner, session.session_id)


def websocket_token(socket: ASGIConnection) -> str | None:
    """docling's client sends the key as ``X-Api-Key`` and as ``?api_key=`` on its status socket."""
    return socket.headers.get(guard.API_KEY_HEADER) or socket.query_params.get("api_key") or None
