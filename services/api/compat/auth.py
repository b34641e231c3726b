"""Who is asking on the compat routes: docling-serve's ``X-Api-Key`` header, or a bearer token.

The value is an operator-issued API key (``dj_...``, see ``services.api.keys``) or a session id;
either way the caller's owner hash decides which tasks and jobs it sees. Then the route's rate limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request
from litestar.datastructures import State

from services.api import guard
from services.api.adapters.sessions import owner_of, valid_id
from services.api.compat.options import CompatError

API_KEY_HEADER = "x-api-key"


@dataclass(frozen=True)
class Caller:
    owner: str  # what the caller's jobs record as their owner
    subject: str  # what its rate-limit windows are counted under


def presented(request: Request) -> str | None:
    key = request.headers.get(API_KEY_HEADER, "").strip()
    if key:
        return key
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def identify(state: State, token: str) -> Caller | None:
    keys = getattr(state, "api_keys", None)
    if keys is not None and (key := await keys.verify(token)) is not None:
        return Caller(key.owner, f"key:{key.key_id}")
    session_id = valid_id(token)
    if session_id is not None and await state.sessions.get(session_id) is not None:
        return Caller(owner_of(session_id), session_id)
    return None


async def current_caller(request: Request, state: State) -> Caller:
    """401 ``{"detail": ...}`` without a valid key (what docling-serve answers a wrong key)."""
    token = presented(request)
    caller = await identify(state, token) if token else None
    if caller is None:
        raise CompatError(
            401, "Invalid or missing API key: send X-Api-Key with an API key or a session id.", "E112"
        )
    await guard.limit(request, state, caller.subject, request.route_handler.opt["rate"])
    return caller
