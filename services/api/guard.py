"""Who is asking, and may they ask now: the session dependency and the rate limits.

A session is presented as ``Authorization: Bearer <id>`` (programs) or the ``docling_session``
cookie (browsers); the header wins. Each route names its rate-limit endpoint in ``opt["rate"]``.
A cookie-authenticated unsafe request (POST, DELETE, ...) from another site is refused (E114): the
browser says so in ``Sec-Fetch-Site``, or failing that in ``Origin``; bearer requests are not
checked (a page on another site cannot know the token).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar import Request
from litestar.datastructures import MutableScopeHeaders, State
from litestar.types import Message, Scope

from services.api.adapters.sessions import Session, valid_id
from services.api.problems import Problem
from services.api.ratelimits import headers

SESSION_COOKIE = "docling_session"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="docling-jobs"'}
_RATE_HEADERS = "docling_rate_limit_headers"  # in the request's scope state, for the answer
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_SITE_FETCHES = frozenset({"same-origin", "none"})  # "none": the user typed it or followed a bookmark


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token.strip() else None


def presented_id(request: Request) -> str | None:
    token = bearer_token(request)
    if token is not None:
        return valid_id(token)
    cookie = request.cookies.get(SESSION_COOKIE)
    return valid_id(cookie) if cookie else None


def cross_site(request: Request) -> bool:
    """Whether the browser says this request comes from another site (no header: not a browser's)."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site.lower() not in SAME_SITE_FETCHES
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()


def check_origin(request: Request) -> None:
    """403 (E114) for a cookie-authenticated unsafe request from another site."""
    if request.method in SAFE_METHODS or bearer_token(request) is not None:
        return
    if cross_site(request):
        raise Problem("E114")


async def limit(request: Request, state: State, subject: str, endpoint: str) -> None:
    """429 (E113) with ``Retry-After`` and the ``RateLimit`` headers when over the endpoint's limit;
    an accepted request's answer carries the ``RateLimit`` headers too (see :func:`send_rate_limit`)."""
    policy = state.settings.policy(endpoint)
    decision = await state.limiter.check(subject, policy)
    told = headers(policy, decision)
    if not decision.allowed:
        raise Problem("E113", headers=told)
    request.scope.setdefault("state", {})[_RATE_HEADERS] = told


async def send_rate_limit(message: Message, scope: Scope) -> None:
    """``before_send`` hook: the answer to an accepted, rate-limited request says what is left."""
    found = scope.get("state", {}).get(_RATE_HEADERS) if message["type"] == "http.response.start" else None
    if found:
        answer = MutableScopeHeaders.from_message(message)
        for name, value in found.items():
            if name not in answer:
                answer[name] = value


async def current_session(request: Request, state: State) -> Session:
    """The request's live session (401 E112 otherwise), after its route's rate limit."""
    check_origin(request)
    session_id = presented_id(request)
    session = await state.sessions.get(session_id) if session_id else None
    if session is None:
        raise Problem("E112", headers=CHALLENGE)
    await limit(request, state, session.session_id, request.route_handler.opt["rate"])
    return session


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
