"""Every key in Redis matches a pattern the manual's "Redis Key Patterns" lists (docs/redis-keys.md)."""

from __future__ import annotations

import uuid

import httpx
import redis

from devstack import Stack
from tests.logins import redis_login
from tests.redis_keys import as_regex, documented_patterns, unlisted
from tests.waiting import wait_for


def test_every_key_the_system_writes_is_documented(stack: Stack, api_url: str) -> None:
    token = httpx.post(f"{api_url}/api/v1/sessions", timeout=30).json()["session_id"]
    with httpx.Client(base_url=api_url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as api:
        job_id = api.post("/api/v1/jobs", files={"file": ("k.md", f"# {uuid.uuid4()}\n".encode())}).json()[
            "job_id"
        ]
        wait_for(
            lambda: api.get(f"/api/v1/jobs/{job_id}").json()["status"] == "succeeded",
            60,
            "the job",
            every=0.2,
        )
    with redis.Redis(**redis_login(stack), decode_responses=True) as r:
        found = list(r.scan_iter(count=1000))
    patterns = documented_patterns()
    assert unlisted(found, patterns) == [], "keys whose pattern docs/redis-keys.md does not list"
    # the run wrote each kind it was meant to (else this test would prove little)
    for kind in (
        "session:{uuid}",
        "ratelimit:{sessionId}:{endpoint}",
        "sse:events:{jobId}",
        "sse:history:{jobId}",
    ):
        assert any(as_regex(kind).match(k) for k in found), f"no {kind} key was written"
    assert f"session:{token}" in found and f"ratelimit:{token}:job" in found


def test_a_restarted_redis_keeps_the_sessions(stack: Stack, api_url: str) -> None:
    """Valkey runs with its append-only file: a restart does not log every user out."""
    token = httpx.post(f"{api_url}/api/v1/sessions", timeout=30).json()["session_id"]
    stack.stop_component("valkey")
    stack.start_component("valkey")
    with redis.Redis(**redis_login(stack), decode_responses=True) as r:
        assert r.ttl(f"session:{token}") > 0
    # an API copy that never saw the session knows it from Redis once it reads Redis again
    other = stack.api_urls[-1]
    wait_for(
        lambda: (
            httpx.get(f"{other}/api/v1/jobs", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        ),
        60,
        "the session to be known after the restart",
        every=0.2,
    )
