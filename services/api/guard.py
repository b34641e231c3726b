"""Who is asking, and may they ask now: the session dependency and the rate limits.

A session is presented as ``Authorization: Bearer <id>`` (programs) or the ``docling_session``
cookie (browsers); the header wins. An operator-issued API key (``dj_...``) is presented as
``X-Api-Key`` (docling-serve's header) or as the bearer token, and acts as a session that never
expires, with its own rate limits where it has them. Each route names its rate-limit endpoint in
``opt["rate"]``. A cookie-authenticated unsafe request (POST, DELETE, ...) from another site is
refused (E114): the browser says so in ``Sec-Fetch-Site``, or failing that in ``Origin``; requests
with a bearer token or an API key are not checked (a page on another site cannot know them).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from services.api.adapters.api_keys import PREFIX, session_id_of
from services.api.adapters.sessions import Session, valid_id
from services.api.deps import Deps, Services
from services.api.domain import Policy, headers
from services.api.problems import Problem

SESSION_COOKIE = "docling_session"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="docling-jobs"'}
_RATE_HEADERS = "docling_rate_limit_headers"  # in the request's scope deps, for the answer
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_SITE_FETCHES = frozenset({"same-origin", "none"})  # "none": the user typed it or followed a bookmark


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token.strip() else None


API_KEY_HEADER = "x-api-key"
Caller = tuple[Session, dict[str, str]]  # who, and their own rate limits (endpoint -> "n/s")
FOREVER = float("inf")


def presented(request: Request) -> str | None:
    """The credential: ``X-Api-Key``, else the bearer token, else the session cookie."""
    key = request.headers.get(API_KEY_HEADER, "").strip()
    if key:
        return key
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.cookies.get(SESSION_COOKIE) or None


async def caller_of(deps: Deps, token: str) -> Caller | None:
    """The live session or API key this credential is, or None."""
    if token.startswith(PREFIX):
        key = await deps.api_keys.verify(token)
        if key is None:
            return None
        return Session(session_id_of(key.key_id), 0.0, FOREVER), key.rate_limits
    session_id = valid_id(token)
    session = await deps.sessions.get(session_id) if session_id else None
    return (session, {}) if session is not None else None


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
    if request.method in SAFE_METHODS or bearer_token(request) or request.headers.get(API_KEY_HEADER):
        return
    if cross_site(request):
        raise Problem("E114")


async def limit(
    request: ASGIConnection, deps: Deps, subject: str, endpoint: str, own: dict[str, str] | None = None
) -> None:
    """429 (E113) with ``Retry-After`` and the ``RateLimit`` headers when over the endpoint's limit
    (the caller's ``own`` limit where it has one); an accepted request's answer carries the
    ``RateLimit`` headers too (see :func:`send_rate_limit`)."""
    spec = (own or {}).get(endpoint)
    policy = Policy.parse(endpoint, spec) if spec else deps.settings.policy(endpoint)
    decision = await deps.limiter.check(subject, policy)
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


async def current_session(request: Request, deps: Services) -> Session:
    """The request's live session or API key (401 E112 otherwise), after its route's rate limit."""
    check_origin(request)
    token = presented(request)
    found = await caller_of(deps, token) if token else None
    if found is None:
        raise Problem("E112", headers=CHALLENGE)
    session, own = found
    await limit(request, deps, session.session_id, request.route_handler.opt["rate"], own)
    return session


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
