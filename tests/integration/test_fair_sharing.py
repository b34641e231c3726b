"""Fair sharing between owners (#15), over HTTP on a stack of its own whose MCP server honours the test
triggers: owner A's conversions are held at a gate (a file the test creates), so what waits and
what runs is decided by the system, never by timing.

A submits three jobs with a share of two: two convert (held), the third waits with a visible
state (``ConversionDeferred``, reason ``owner_busy``, E118), a fourth is refused (429 E117: A's
queue holds three); owner B's job succeeds meanwhile; the gate opens and all of A's jobs succeed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack import Stack
from tests.faults import client, private_stack
from tests.waiting import wait_for

GATE = b"DOCLING-JOBS-TEST-FAULT: gate "  # services/mcp_server/adapters/worker.py (MCP_SERVER_TEST_FAULTS=1)
SHARE = 2
QUEUE = 3
FAIR_ENV = {
    "MCP_SERVER_TEST_FAULTS": "1",
    "MCP_SERVER_WORKERS": "3",  # one more than A's share: B's job finds a worker free
    "CONVERTER_OWNER_MAX_ACTIVE": str(SHARE),
    "CONVERTER_OWNER_WAIT_S": "0.5",
    "API_OWNER_MAX_QUEUED": str(QUEUE),
}


@pytest.fixture(scope="module")
def fair_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with private_stack(tmp_path_factory.mktemp("fair"), env=FAIR_ENV, copies=2) as stack:
        yield stack


def gated(path: Path, gate: Path) -> Path:
    path.write_bytes(GATE + str(gate).encode() + b"\n\n# Held\n\n" + uuid.uuid4().hex.encode() + b"\n")
    return path


def plain(path: Path) -> Path:
    path.write_text(f"# Another owner\n\n{uuid.uuid4().hex}\n")
    return path


def submitted(api: httpx.Client, path: Path) -> httpx.Response:
    with path.open("rb") as handle:
        return api.post("/api/v1/jobs", files={"file": (path.name, handle)})


def events(api: httpx.Client, job_id: str) -> list[dict]:
    response = api.get(f"/api/v1/jobs/{job_id}/events", headers={"Accept": "application/json"})
    assert response.status_code in (200, 204), response.text
    return response.json()["events"] if response.status_code == 200 else []


def of_type(api: httpx.Client, job_id: str, event_type: str) -> list[dict]:
    return [e["data"]["data"] for e in events(api, job_id) if e["event"] == event_type]


def status(api: httpx.Client, job_id: str) -> str:
    return str(api.get(f"/api/v1/jobs/{job_id}").json()["status"])


def test_an_owner_over_its_share_waits_visibly_while_another_owner_is_served(
    fair_stack: Stack, tmp_path: Path
) -> None:
    gate = tmp_path / "gate-open"
    a, b = client(fair_stack.urls.api), client(fair_stack.urls.api)
    jobs = []
    for n in range(QUEUE):
        answer = submitted(a, gated(tmp_path / f"held-{n}.md", gate))
        assert answer.status_code == 202, answer.text
        jobs.append(answer.json()["job_id"])

    def split() -> tuple[list[str], list[str]] | None:
        started = [j for j in jobs if of_type(a, j, "ConversionStarted")]
        waiting = [j for j in jobs if of_type(a, j, "ConversionDeferred")]
        return (started, waiting) if len(started) == SHARE and len(waiting) == QUEUE - SHARE else None

    started, waiting = wait_for(split, 120, "two of A's jobs converting and the third waiting")
    (deferred,) = of_type(a, waiting[0], "ConversionDeferred")
    assert (deferred["reason"], deferred["code"], deferred["stage"]) == ("owner_busy", "E118", "stored")
    assert deferred["message"] and deferred["retry_at"]
    assert status(a, waiting[0]) == "deferred"

    refused = submitted(a, gated(tmp_path / "one-too-many.md", gate))
    assert refused.status_code == 429 and refused.json()["code"] == "E117", refused.text
    assert int(refused.headers["Retry-After"]) > 0

    other = submitted(b, plain(tmp_path / "other-owner.md"))
    assert other.status_code == 202, other.text
    wait_for(lambda: status(b, other.json()["job_id"]) == "succeeded", 120, "B's job to succeed")
    # B was served while A's share stayed in use: A's third job is still waiting, not started
    assert not of_type(a, waiting[0], "ConversionStarted") and status(a, waiting[0]) == "deferred"

    gate.touch()
    wait_for(
        lambda: all(status(a, j) in ("succeeded", "failed", "cancelled") for j in jobs),
        180,
        "all of A's jobs to end",
    )
    assert [status(a, j) for j in jobs] == ["succeeded"] * QUEUE
    assert len(of_type(a, waiting[0], "ConversionDeferred")) == 1  # announced once, however often it looked
    assert all(not of_type(a, j, "ConversionDeferred") for j in started)
