"""Degraded mode against the real MCP server (ours in the first pass, docling-mcp in the second):
stop it while jobs flow, and no job fails; start it again, and every job completes."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import redis

from contracts import keys
from devstack import Stack
from tests.documents import MAKERS
from tests.e2e.helpers import submit
from tests.logins import redis_login
from tests.metrics import metric
from tests.waiting import wait_for

TERMINAL = {"succeeded", "failed", "rejected", "cancelled"}


def converter_urls(stack: Stack) -> list[str]:
    ports = [
        stack.ports.converter,
        *(p for name, p in stack.copy_ports.items() if name.startswith("converter-")),
    ]
    return [f"http://127.0.0.1:{port}" for port in ports]


def events(api: httpx.Client, job_id: str) -> list[dict]:
    response = api.get(f"/api/v1/jobs/{job_id}/events", headers={"Accept": "application/json"})
    assert response.status_code in (200, 204), response.text
    return response.json()["events"] if response.status_code == 200 else []


def test_jobs_wait_while_the_mcp_server_is_down_and_all_finish_when_it_returns(
    stack: Stack, api: httpx.Client, tmp_path: Path
) -> None:
    circuit = redis.Redis(**redis_login(stack), decode_responses=True)
    urls = converter_urls(stack)
    closed_before = metric(
        urls, "docling_circuit_breaker_transitions_total", from_state="HALF_OPEN", to_state="CLOSED"
    )
    trials_before = metric(urls, "docling_circuit_breaker_trials_total", outcome="succeeded")
    stack.stop_component("mcp")
    try:
        jobs = [submit(api, MAKERS["md"](tmp_path / f"doc{i}.md"))["job_id"] for i in range(3)]

        def opened() -> bool:
            raw = circuit.get(keys.circuit(keys.CIRCUIT_MCP))
            return raw is not None and json.loads(raw)["state"] in ("OPEN", "HALF_OPEN")

        wait_for(opened, 60, "the circuit to open")
        for job_id in jobs:
            deferred = wait_for(
                lambda j=job_id: [e for e in events(api, j) if e["event"] == "ConversionDeferred"],
                60,
                "a deferred event",
            )
            fact = deferred[0]["data"]["data"]  # the envelope, then its facts
            assert (
                fact["code"] == "E206"
                and fact["reason"] in ("server_failure", "circuit_open")
                and fact["retry_at"]
            )
            assert api.get(f"/api/v1/jobs/{job_id}").json()["status"] == "deferred"
    finally:
        stack.start_component("mcp")

    def finished() -> list[dict] | None:
        states = [api.get(f"/api/v1/jobs/{j}").json() for j in jobs]
        return states if all(s["status"] in TERMINAL for s in states) else None

    states = wait_for(finished, 120, "every job to finish")
    assert [s["status"] for s in states] == ["succeeded"] * 3
    for job_id in jobs:
        assert [e["event"] for e in events(api, job_id)].count("ConversionDeferred") == 1
    assert json.loads(circuit.get(keys.circuit(keys.CIRCUIT_MCP)))["state"] == "CLOSED"
    assert (
        metric(urls, "docling_circuit_breaker_transitions_total", from_state="HALF_OPEN", to_state="CLOSED")
        == closed_before + 1
    )
    assert metric(urls, "docling_circuit_breaker_trials_total", outcome="succeeded") == trials_before + 1
    circuit.close()
