"""Sessions and isolation against the running stack: a session sees and touches only its own jobs."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
import redis
from httpx_sse import connect_sse

from devstack import Stack
from tests.documents import make_markdown
from tests.e2e.helpers import authorized, copies, held, new_session, read_stream, submit
from tests.e2e.test_api_errors import assert_problem
from tests.logins import redis_login
from tests.waiting import wait_for

SESSIONS = "/api/v1/sessions"


@pytest.fixture
def owner(stack: Stack) -> httpx.Client:
    with authorized(stack.api_urls[0], new_session(stack.urls.api), timeout=30) as client:
        yield client


@pytest.fixture
def stranger(stack: Stack) -> httpx.Client:
    with authorized(stack.api_urls[-1], new_session(stack.urls.api), timeout=30) as client:
        yield client


def test_a_session_is_created_read_and_ended(stack: Stack) -> None:
    with httpx.Client(base_url=stack.urls.api, timeout=30) as browser:
        created = browser.post(SESSIONS)
        assert created.status_code == 201
        body = created.json()
        cookie = created.headers["set-cookie"]
        assert f"docling_session={body['session_id']}" in cookie
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
        assert "Path=/" in cookie and "Max-Age=86400" in cookie
        assert "Secure" not in cookie  # plain HTTP here; https requests (or API_COOKIE_SECURE) get it
        # the browser sends the cookie back by itself
        assert browser.get(f"{SESSIONS}/current").json()["session_id"] == body["session_id"]
        assert browser.get("/api/v1/jobs").json()["jobs"] == []
        with redis.Redis(**redis_login(stack), decode_responses=True) as r:
            stored = json.loads(r.get(f"session:{body['session_id']}"))
            assert stored["session_id"] == body["session_id"]
            assert 86390 <= r.ttl(f"session:{body['session_id']}") <= 86400
        ended = browser.delete(f"{SESSIONS}/current")
        assert ended.status_code == 204 and "Max-Age=0" in ended.headers["set-cookie"]
        browser.cookies.set("docling_session", body["session_id"])  # a client that ignores the deletion
        assert_problem(browser.get(f"{SESSIONS}/current"), 401, "E112")
        with redis.Redis(**redis_login(stack)) as r:
            assert not r.exists(f"session:{body['session_id']}")


def test_the_bearer_token_works_on_every_api_instance(stack: Stack) -> None:
    token = new_session(stack.urls.api)
    for url in stack.api_urls:
        with authorized(url, token) as client:
            assert client.get(f"{SESSIONS}/current").json()["session_id"] == token


@pytest.mark.parametrize(
    "credentials",
    [
        {},
        {"Authorization": f"Bearer {uuid.uuid4()}"},
        {"Authorization": "Bearer not-a-uuid"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Cookie": f"docling_session={uuid.uuid4()}"},
    ],
    ids=["none", "unknown", "malformed", "basic", "unknown-cookie"],
)
def test_no_valid_session_is_401_on_every_route(api: httpx.Client, credentials: dict) -> None:
    job = f"/api/v1/jobs/{uuid.uuid4()}"
    requests = [
        ("GET", f"{SESSIONS}/current"),
        ("DELETE", f"{SESSIONS}/current"),
        ("GET", "/api/v1/jobs"),
        ("POST", "/api/v1/jobs"),
        ("GET", job),
        ("GET", f"{job}/events"),
        ("GET", f"{job}/result"),
        ("DELETE", job),
    ]
    for method, path in requests:
        headers = {"Authorization": "", **credentials}
        response = api.request(method, path, headers=headers)
        assert_problem(response, 401, "E112")
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_another_sessions_job_is_404_everywhere(
    owner: httpx.Client, stranger: httpx.Client, tmp_path: Path
) -> None:
    job_id = submit(owner, make_markdown(tmp_path / "mine.md"))["job_id"]
    base = f"/api/v1/jobs/{job_id}"
    # at once (the projection may not have it yet: ownership then comes from the log) ...
    assert_problem(stranger.get(base), 404, "E104")
    events = read_stream(owner, job_id)
    assert events[-1][1] == "ConversionSucceeded"
    # ... and once the job is done
    for path, params, headers in [
        (base, {}, {}),
        (f"{base}/result", {"format": "markdown"}, {}),
        (f"{base}/events", {"after": 0}, {"Accept": "application/json"}),  # the polling form
        (f"{base}/events", {}, {"Accept": "text/event-stream"}),
    ]:
        assert_problem(stranger.get(path, params=params, headers=headers), 404, "E104")
    with connect_sse(stranger, "GET", f"{base}/events", headers={"Last-Event-ID": "0"}) as source:
        assert source.response.status_code == 404
    assert_problem(stranger.delete(base), 404, "E104")
    assert job_id not in [j["job_id"] for j in stranger.get("/api/v1/jobs").json()["jobs"]]
    # the owner still has everything
    assert owner.get(base).json()["status"] == "succeeded"
    assert owner.get(f"{base}/result").status_code == 200
    assert [j["job_id"] for j in owner.get("/api/v1/jobs").json()["jobs"]] == [job_id]


def test_another_session_cannot_cancel_a_running_job(
    owner: httpx.Client, stranger: httpx.Client, stack: Stack, tmp_path: Path
) -> None:
    # ingest and the converters (their cancel consumer too) held: whatever the two requests put in
    # the log stays there, nothing ends the job before both have been answered
    with held(stack, *copies(stack, "ingest"), *copies(stack, "converter")):
        job_id = submit(owner, make_markdown(tmp_path / "hold.md"))["job_id"]
        assert_problem(stranger.delete(f"/api/v1/jobs/{job_id}"), 404, "E104")
        assert owner.delete(f"/api/v1/jobs/{job_id}").status_code == 202  # its owner can
    wait_for(
        lambda: owner.get(f"/api/v1/jobs/{job_id}").json()["status"] == "cancelled",
        60,
        "the owner's cancellation to end the job",
        every=0.2,
    )
    page = owner.get(
        f"/api/v1/jobs/{job_id}/events", params={"after": 0}, headers={"Accept": "application/json"}
    )
    requested = [e for e in page.json()["events"] if e["event"] == "JobCancelRequested"]
    assert len(requested) == 1, "the stranger's refused cancel reached the log"


def test_the_job_list_is_newest_first_and_paginated(owner: httpx.Client, tmp_path: Path) -> None:
    submitted = [submit(owner, make_markdown(tmp_path / f"n{i}.md"))["job_id"] for i in range(5)]
    wait_for(
        lambda: len(owner.get("/api/v1/jobs", params={"limit": 100}).json()["jobs"]) == 5,
        60,
        "the five jobs in the list",
        every=0.2,
    )
    first = owner.get("/api/v1/jobs", params={"limit": 2}).json()
    assert first["limit"] == 2 and first["offset"] == 0 and first["next"]
    seen, page = [j["job_id"] for j in first["jobs"]], first
    while page["next"]:
        page = owner.get(page["next"]).json()
        seen += [j["job_id"] for j in page["jobs"]]
    assert seen == list(reversed(submitted))
    assert_problem(owner.get("/api/v1/jobs", params={"limit": 0}), 400, "E100")
    assert_problem(owner.get("/api/v1/jobs", params={"limit": 101}), 400, "E100")
