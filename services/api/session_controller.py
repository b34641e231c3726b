"""Sessions: create one (per client address rate limit), read it, end it."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import Cookie
from litestar.di import Provide
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from services.api import guard, openapi
from services.api.adapters.sessions import Session
from services.api.deps import Deps, Services
from services.api.views import SessionView

PREFIX = "/api/v1/sessions"


def view(session: Session) -> SessionView:
    return SessionView(
        session_id=session.session_id,
        created_at=datetime.fromtimestamp(session.created_at, UTC),
        expires_at=datetime.fromtimestamp(session.expires_at, UTC),
    )


def cookie(request: Request, deps: Deps, value: str, max_age: int) -> Cookie:
    secure = request.url.scheme == "https" or deps.settings.cookie_secure
    return Cookie(
        key=guard.SESSION_COOKIE,
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )


class SessionController(Controller):
    path = PREFIX
    tags = ["sessions"]

    @post(
        "/",
        operation_id="createSession",
        responses=openapi.problems("createSession"),
        status_code=HTTP_201_CREATED,
        summary="Start a session: the answer sets an HttpOnly cookie and carries the bearer token",
        opt={"rate": "session_create"},
    )
    async def create(self, request: Request, deps: Services) -> Response[SessionView]:
        await guard.limit(request, deps, f"ip-{guard.client_address(request)}", "session_create")
        session = await deps.sessions.create()
        left = int(session.expires_at - session.created_at)
        return Response(
            view(session),
            status_code=HTTP_201_CREATED,
            cookies=[cookie(request, deps, session.session_id, left)],
        )

    @get(
        "/current",
        operation_id="getSession",
        responses=openapi.problems("getSession"),
        summary="The session this request presents",
        dependencies={"session": Provide(guard.current_session)},
        opt={"rate": "session"},
        security=openapi.SESSION_REQUIRED,
    )
    async def read(self, session: Session) -> SessionView:
        return view(session)

    @delete(
        "/current",
        operation_id="endSession",
        responses=openapi.problems("endSession"),
        status_code=HTTP_204_NO_CONTENT,
        summary="End the session; its jobs are no longer reachable through it",
        dependencies={"session": Provide(guard.current_session)},
        opt={"rate": "session"},
        security=openapi.SESSION_REQUIRED,
    )
    async def end(self, request: Request, deps: Services, session: Session) -> Response[None]:
        await deps.sessions.end(session.session_id)
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=[cookie(request, deps, "", 0)])
