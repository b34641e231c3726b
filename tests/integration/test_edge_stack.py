"""Rate limits and dependency outages, on a small stack of their own (PostgreSQL, NATS, Valkey,
progress, one API) with small limits, so stopping Redis or PostgreSQL disturbs no other test."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from devstack import Ports, Stack
from services.api.adapters.fallback import RedisFallback
from services.api.adapters.limiter import RateLimiter
from services.api.domain import Policy
from tests.logins import redis_login
from tests.waiting import wait_for

EDGE_ENV = {
    "API_RATE_LIMIT_SESSION_CREATE": "5/10",
    "API_RATE_LIMIT_SUBMIT": "3/10",
    "API_RATE_LIMIT_SESSION": "1000/60",
    "API_RATE_LIMIT_LIST": "1000/60",
    "API_RATE_LIMIT_JOB": "1000/60",
    "API_RATE_LIMIT_EVENTS": "1000/60",
    "API_RATE_LIMIT_RESULT": "1000/60",
    "API_RATE_LIMIT_CANCEL": "1000/60",
    "API_DB_TIMEOUT_S": "2",
    "API_HEADER_TIMEOUT_S": "2",
    "API_BODY_TIMEOUT_S": "2",
    "API_SSE_MAX_STREAMS": "3",
    "API_SSE_MAX_STREAMS_PER_SESSION": "2",
}
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(
        tmp_path_factory.mktemp("edge"),
        Ports.free(),
        components=("postgres", "nats", "valkey", "progress", "api"),
    )
    with pytest.MonkeyPatch.context() as env:
        for name, value in EDGE_ENV.items():
            env.setenv(name, value)
        try:
            stack.start()
        except BaseException:
            stack.purge()
            raise
    try:
        yield stack
    finally:
        stack.purge()


@pytest.fixture(scope="module")
def url(edge: Stack) -> str:
    return edge.urls.api


def problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["detail"]
    assert "Traceback" not in response.text
    return body


def new_session(url: str) -> str:
    """A session, waiting out the per-address creation limit if another test used it up."""

    def created() -> str | None:
        response = httpx.post(f"{url}/api/v1/sessions", timeout=10)
        if response.status_code == 201:
            return response.json()["session_id"]
        assert response.status_code == 429, response.text
        time.sleep(float(response.headers["retry-after"]))  # as the answer asks
        return None

    return wait_for(created, 60, "a session (past the creation limit)")


def client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def upload(http: httpx.Client, name: str = "a.md") -> httpx.Response:
    return http.post("/api/v1/jobs", files={"file": (name, f"# {uuid.uuid4()}\n".encode())})


# -- rate limits ----------------------------------------------------------------------------------


def test_submitting_past_the_limit_is_429_with_the_draft_headers(url: str) -> None:
    token = new_session(url)
    with client(url, token) as http:
        accepted = [upload(http) for _ in range(3)]
        refused = upload(http)
        other = client(url, new_session(url))
        with other:
            assert upload(other).status_code == 202  # the limit is per session
    assert [a.status_code for a in accepted] == [202, 202, 202]
    # what is left is on every accepted answer, so a client can pace itself
    assert [a.headers["ratelimit"] for a in accepted] == [f'"submit";r={left};t=10' for left in (2, 1, 0)]
    assert {a.headers["ratelimit-policy"] for a in accepted} == {'"submit";q=3;w=10'}
    assert all("retry-after" not in a.headers for a in accepted)
    problem(refused, 429, "E113")
    retry = int(refused.headers["retry-after"])
    assert 1 <= retry <= 10
    assert refused.headers["ratelimit-policy"] == '"submit";q=3;w=10'
    assert refused.headers["ratelimit"] == f'"submit";r=0;t={retry}'
    time.sleep(retry)  # the window slides: the oldest submission has left it
    with client(url, token) as http:
        assert upload(http).status_code == 202


def test_fresh_sessions_cannot_escape_the_limits(url: str) -> None:
    """Session creation is limited per client address: 5 in 10 s here."""
    codes = [httpx.post(f"{url}/api/v1/sessions").status_code for _ in range(7)]
    assert codes.count(201) <= 5 and codes[-1] == 429
    refused = httpx.post(f"{url}/api/v1/sessions")
    problem(refused, 429, "E113")
    assert refused.headers["ratelimit-policy"] == '"session_create";q=5;w=10'


def test_the_window_lives_in_redis_on_the_server_clock(edge: Stack, url: str) -> None:
    token = new_session(url)
    with client(url, token) as http:
        upload(http)
    import redis as sync_redis

    with sync_redis.Redis(**redis_login(edge), decode_responses=True) as r:
        key = f"ratelimit:{token}:submit"
        assert r.type(key) == "zset" and r.zcard(key) == 1
        assert 0 < r.pttl(key) <= 10_000
        ((_member, score),) = r.zrange(key, 0, -1, withscores=True)
        server_now_us = int(r.time()[0]) * 1_000_000
        assert abs(score - server_now_us) < 5_000_000  # scored by Redis TIME, in microseconds


async def test_instances_share_one_window_and_rejections_are_counted(edge: Stack) -> None:
    """Two limiters (two API processes) on one Redis see one window; each 429 is counted."""
    redis = Redis(**redis_login(edge), decode_responses=True)
    try:
        first, second = RateLimiter(redis, RedisFallback()), RateLimiter(redis, RedisFallback())
        policy, subject = Policy("events", 4, 30), str(uuid.uuid4())
        counted = (
            REGISTRY.get_sample_value("docling_rate_limit_rejections_total", {"endpoint": "events"}) or 0
        )
        decisions = [await (first if n % 2 else second).check(subject, policy) for n in range(6)]
        assert [d.allowed for d in decisions] == [True] * 4 + [False] * 2
        assert [d.remaining for d in decisions[:4]] == [3, 2, 1, 0]
        assert 0 < decisions[-1].retry_after_s <= 30
        after = REGISTRY.get_sample_value("docling_rate_limit_rejections_total", {"endpoint": "events"})
        assert after == counted + 2
        # many requests at once: the Lua script admits exactly the limit
        crowd = await asyncio.gather(*[first.check(f"{subject}-crowd", policy) for _ in range(40)])
        assert sum(d.allowed for d in crowd) == 4
    finally:
        await redis.aclose()


# -- hostile clients -----------------------------------------------------------------------------


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(edge: Stack, url: str) -> None:
    """API_TRUSTED_PROXIES is empty: rotating X-Forwarded-For does not make a new client address."""
    forged = f"203.0.113.{uuid.uuid4().int % 250 + 1}"

    def created() -> httpx.Response | None:
        response = httpx.post(f"{url}/api/v1/sessions", headers={"X-Forwarded-For": forged})
        if response.status_code == 429:  # earlier tests used this address's window: wait as asked
            time.sleep(float(response.headers["retry-after"]))
            return None
        return response

    response = wait_for(created, 60, "a session past the address's creation limit", every=0)
    assert response.status_code == 201, response.text
    import redis as sync_redis

    with sync_redis.Redis(**redis_login(edge), decode_responses=True) as r:
        assert not r.exists(f"ratelimit:ip-{forged}:session_create")
        assert r.exists("ratelimit:ip-127.0.0.1:session_create")


def as_browser(url: str, token: str, **headers: str) -> httpx.Client:
    return httpx.Client(base_url=url, cookies={"docling_session": token}, headers=headers, timeout=30)


def test_cookie_requests_from_another_site_are_refused(url: str) -> None:
    token = new_session(url)
    with as_browser(url, token, Origin="https://evil.example") as foreign:
        problem(upload(foreign), 403, "E114")
        problem(foreign.delete("/api/v1/sessions/current"), 403, "E114")
        assert foreign.get("/api/v1/sessions/current").status_code == 200  # reading is not acting
    with as_browser(url, token, **{"Sec-Fetch-Site": "cross-site"}) as foreign:
        problem(upload(foreign), 403, "E114")
    with as_browser(url, token, Origin="null") as sandboxed:
        problem(upload(sandboxed), 403, "E114")
    with as_browser(url, token, **{"Sec-Fetch-Site": "same-origin", "Origin": url}) as own_page:
        assert upload(own_page).status_code == 202
    with as_browser(url, token) as no_browser_headers:  # curl with a cookie jar
        assert upload(no_browser_headers).status_code == 202


def test_bearer_requests_are_not_checked_for_origin(url: str) -> None:
    with client(url, new_session(url)) as http:
        http.headers.update({"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
        assert upload(http).status_code == 202


def dropped(sock: socket.socket) -> bytes:
    """What the server sends before it closes the connection (b"" when it sends nothing)."""
    sock.settimeout(30)  # far beyond the 2 s limits: a server that never drops fails here
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


def test_a_client_that_sends_half_its_headers_is_dropped(edge: Stack) -> None:
    with socket.create_connection(("127.0.0.1", edge.ports.api)) as sock:
        sock.sendall(b"POST /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-")
        assert dropped(sock) == b""


def test_a_client_that_stops_in_the_middle_of_its_body_is_dropped(edge: Stack, url: str) -> None:
    token = new_session(url)
    head = (
        "POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", edge.ports.api)) as sock:
        sock.sendall(
            head.encode() + b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.md"\r\n\r\n# a'
        )
        assert dropped(sock) == b""  # dropped without an answer: nothing was accepted


def test_a_complete_request_on_a_kept_connection_is_answered(edge: Stack) -> None:
    """The control: the same raw client, finishing its request, gets its answer."""
    with socket.create_connection(("127.0.0.1", edge.ports.api)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.settimeout(30)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")


def test_live_streams_are_capped_per_session_and_per_instance(url: str) -> None:
    """Jobs here never end (no ingest, no converter): their streams stay open until closed."""
    with client(url, new_session(url)) as first, client(url, new_session(url)) as second:
        mine, theirs = (f"/api/v1/jobs/{upload(http).json()['job_id']}/events" for http in (first, second))
        with contextlib.ExitStack() as streams:
            opened = [streams.enter_context(http.stream("GET", path)) for http, path in
                      ((first, mine), (first, mine), (second, theirs))]  # fmt: skip
            assert [response.status_code for response in opened] == [200, 200, 200]
            problem(first.get(mine), 429, "E115")  # the session's third
            problem(second.get(theirs), 429, "E115")  # the instance's fourth

        def reopens() -> bool:
            with first.stream("GET", mine) as again:
                return again.status_code == 200

        wait_for(reopens, timeout=30, what="closed streams give their slots back")


# -- Redis down -----------------------------------------------------------------------------------


def test_with_redis_down_the_api_keeps_answering_from_memory(edge: Stack, url: str) -> None:
    before = new_session(url)
    with client(url, before) as http:
        job_id = upload(http).json()["job_id"]
        wait_for(
            lambda: http.get(f"/api/v1/jobs/{job_id}").json()["last_event_id"] >= 1,
            30,
            "the job in the projection",
        )
    edge.stop_component("valkey")
    try:
        health = httpx.get(f"{url}/api/v1/health", timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "degraded"
        assert health.json()["dependencies"]["redis"]["status"] == "down"
        with client(url, before) as http:  # a session this instance knows keeps working
            assert http.get("/api/v1/sessions/current").json()["session_id"] == before
            page = http.get(
                f"/api/v1/jobs/{job_id}/events", params={"after": 0}, headers={"Accept": "application/json"}
            )
            assert page.status_code == 200 and page.json()["events"][0]["event"] == "JobSubmitted"
            problem(http.get(f"/api/v1/jobs/{job_id}/events"), 503, "E503")  # SSE needs Redis
        during = new_session(url)  # created in memory
        with client(url, during) as http:
            codes = [upload(http).status_code for _ in range(4)]
            assert codes == [202, 202, 202, 429]  # limits still hold, from memory
        with client(url, str(uuid.uuid4())) as http:
            problem(http.get("/api/v1/sessions/current"), 401, "E112")
    finally:
        edge.start_component("valkey")
    # this stack has no MCP server, so the API stays "degraded"; what matters is that Redis is back
    wait_for(
        lambda: httpx.get(f"{url}/api/v1/health").json()["dependencies"]["redis"]["status"] == "up",
        30,
        "Redis to be up again",
    )
    import redis as sync_redis

    with (
        client(url, during) as http,
        sync_redis.Redis(**redis_login(edge), decode_responses=True) as r,
    ):
        # the session made during the outage is written to Redis once the API sees it answer again
        wait_for(
            lambda: http.get("/api/v1/sessions/current").status_code == 200 and r.exists(f"session:{during}"),
            30,
            "the session in Redis",
        )
        assert json.loads(r.get(f"session:{during}"))["session_id"] == during
        assert 86000 < r.ttl(f"session:{during}") <= 86400
        # a session nobody created, accepted from memory nowhere: Redis is the authority again
        assert (
            http.get(
                "/api/v1/sessions/current", headers={"Authorization": f"Bearer {uuid.uuid4()}"}
            ).status_code
            == 401
        )


def postgres_processes(postmaster: int) -> list[int]:
    """The postmaster and its children (each backend is a session leader of its own, so a signal to
    the postmaster's process group does not reach them)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:
            children.append(int(stat.parent.name))
    return [postmaster, *children]


def signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


# -- PostgreSQL down --------------------------------------------------------------------------------


def test_with_postgres_down_requests_that_need_it_get_503_quickly(edge: Stack, url: str) -> None:
    token = new_session(url)
    with client(url, token) as http:
        job_id = upload(http).json()["job_id"]
        wait_for(lambda: http.get(f"/api/v1/jobs/{job_id}").status_code == 200, 30, "the job")
        needs_db = [f"/api/v1/jobs/{job_id}", "/api/v1/jobs", f"/api/v1/jobs/{job_id}/result"]
        frozen = postgres_processes(edge.pid("postgres"))
        for how in ("hung", "stopped"):
            if how == "hung":  # every backend frozen: connections open, no answer ever
                signal_all(frozen, signal.SIGSTOP)
            else:
                signal_all(frozen, signal.SIGCONT)
                edge.stop_component("postgres")
            try:
                for path in needs_db:
                    started = time.monotonic()
                    problem(http.get(path), 503, "E503")
                    took = time.monotonic() - started  # API_DB_TIMEOUT_S=2, plus room for a loaded machine
                    assert took < 10, f"{path} took {took:.1f} s while postgres was {how}"
                assert upload(http).status_code == 202  # submitting needs only NATS
            except BaseException:
                signal_all(frozen, signal.SIGCONT)
                raise
        edge.start_component("postgres")
        wait_for(
            lambda: all(http.get(p).status_code == 200 for p in needs_db[:2]),
            60,
            "the API to use PostgreSQL again",
        )
