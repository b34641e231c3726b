"""The API's routes driven through bootstrap with fakes: no NATS, Redis or PostgreSQL."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from litestar.testing import TestClient

from services.api.adapters.sessions import Session
from services.api.deps import Deps
from services.api.domain import Decision, Policy
from services.api.entrypoint import create_app
from services.api.settings import ApiSettings

DAY_S = 86400.0


@dataclass
class FakeSessions:
    live: dict[str, Session] = field(default_factory=dict)

    async def create(self) -> Session:
        now = time.time()
        session = Session(str(uuid.uuid4()), now, now + DAY_S)
        self.live[session.session_id] = session
        return session

    async def get(self, session_id: str) -> Session | None:
        return self.live.get(session_id)

    async def end(self, session_id: str) -> None:
        self.live.pop(session_id, None)


@dataclass
class FakeLimiter:
    refuse: set[str] = field(default_factory=set)  # endpoints over their limit

    async def check(self, subject: str, policy: Policy) -> Decision:
        if policy.endpoint in self.refuse:
            return Decision(False, 0, 12.0)
        return Decision(True, policy.limit - 1, 0.0)


@dataclass
class FakeReadModel:
    rows: dict[str, dict] = field(default_factory=dict)

    async def job(self, job_id: str) -> dict | None:
        return self.rows.get(job_id)

    async def jobs_of(self, owner: str, limit: int, offset: int) -> list[dict]:
        return []

    async def unfinished_of(self, owner: str) -> int:
        return sum(1 for row in self.rows.values() if row["owner"] == owner)


class FakeSubmissions:
    async def owner_of(self, job_id: str) -> str | None:
        return None


def fakes(**overrides: Any) -> Deps:
    parts: dict[str, Any] = {
        "settings": ApiSettings(),
        "broker": None,
        "redis": None,
        "submissions": FakeSubmissions(),
        "feed": None,
        "read_model": FakeReadModel(),
        "fallback": None,
        "sessions": FakeSessions(),
        "limiter": FakeLimiter(),
        "tasks": None,
        "api_keys": None,
        "outcomes": None,
        "stream_slots": None,
        "health_http": None,
    }
    return Deps(**cast(Any, {**parts, **overrides}))


def client(deps: Deps) -> TestClient:
    @asynccontextmanager
    async def services(settings: ApiSettings) -> AsyncIterator[Deps]:
        yield deps

    return TestClient(create_app(deps.settings, services, watch=False))


def test_a_new_session_is_answered_with_its_token_and_cookie() -> None:
    deps = fakes()
    with client(deps) as http:
        answer = http.post("/api/v1/sessions")
    assert answer.status_code == 201
    session_id = answer.json()["session_id"]
    assert session_id in cast(FakeSessions, deps.sessions).live
    assert answer.cookies.get("docling_session") == session_id
    assert "RateLimit" in answer.headers


def test_a_job_of_nobody_known_is_404_problem_json() -> None:
    deps = fakes()
    with client(deps) as http:
        token = http.post("/api/v1/sessions").json()["session_id"]
        answer = http.get(f"/api/v1/jobs/{uuid.uuid4()}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "E104"


def test_without_a_session_the_jobs_are_401_and_with_one_an_empty_list() -> None:
    with client(fakes()) as http:
        assert http.get("/api/v1/jobs").json()["code"] == "E112"
        token = http.post("/api/v1/sessions").json()["session_id"]
        listed = http.get("/api/v1/jobs", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200


def test_a_refused_session_start_is_429_with_retry_after() -> None:
    with client(fakes(limiter=FakeLimiter(refuse={"session_create"}))) as http:
        answer = http.post("/api/v1/sessions")
    assert answer.status_code == 429
    assert answer.json()["code"] == "E113"
    assert answer.headers["Retry-After"] == "12"


def test_an_owner_whose_queue_is_full_is_refused_429_e117_before_the_upload_is_read() -> None:
    read_model = FakeReadModel()
    deps = fakes(read_model=read_model, settings=ApiSettings(owner_max_queued=2))
    with client(deps) as http:
        token = http.post("/api/v1/sessions").json()["session_id"]
        owner = cast(FakeSessions, deps.sessions).live[token].owner
        read_model.rows = {str(n): {"owner": owner} for n in range(2)}  # two jobs without an outcome
        answer = http.post(
            "/api/v1/jobs",
            files={"file": ("a.md", b"# a")},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 429
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "E117" and answer.json()["recovery"]
    assert int(answer.headers["Retry-After"]) > 0
