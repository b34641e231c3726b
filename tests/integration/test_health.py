"""The health report with each dependency stopped in turn, for real (each is restarted after)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from devstack import Stack
from services.api.health import PROBE_TIMEOUT_S
from tests.documents import make_docx
from tests.e2e.helpers import authorized as authorized_client
from tests.e2e.helpers import new_session
from tests.waiting import wait_for

RESTARTING = (httpx.HTTPError,)  # a service coming back refuses connections meanwhile

# component stopped -> (dependency as the API reports it, overall state, HTTP status)
OUTAGES = {
    "valkey": ("redis", "degraded", 200),
    "mcp": ("mcp", "degraded", 200),
    "postgres": ("postgres", "unhealthy", 503),
    "nats": ("nats", "unhealthy", 503),
}
# worker -> the dependencies its readiness needs besides NATS
WORKER_NEEDS = {"ingest": set(), "converter": {"postgres"}, "progress": {"postgres", "valkey"}}


def ready_is(url: str, status: int) -> Callable[[], bool]:
    return lambda: httpx.get(f"{url}/readyz", timeout=10.0).status_code == status


def health(api_url: str) -> httpx.Response:
    return httpx.get(f"{api_url}/api/v1/health", timeout=10.0)


def healthy(api_url: str) -> dict | None:
    response = health(api_url)
    return response.json() if response.status_code == 200 and response.json()["status"] == "healthy" else None


def worker_url(stack: Stack, name: str) -> str:
    return f"http://127.0.0.1:{getattr(stack.ports, name)}"


def test_healthy_stack_reports_every_dependency(stack: Stack) -> None:
    body = wait_for(lambda: healthy(stack.urls.api), 90, "a healthy report", tolerate=RESTARTING)
    assert set(body["dependencies"]) == {"postgres", "redis", "nats", "mcp"}
    for dependency in body["dependencies"].values():
        assert dependency["status"] == "up" and dependency["latency_ms"] >= 0
    # devstack gives Valkey a maxmemory, so the percentage is of that limit: tiny here
    assert 0 < body["dependencies"]["redis"]["memory_percent"] < 50
    assert body["circuit"] == {"docling-mcp": "CLOSED"}
    for name in ("ingest", "converter", "progress"):
        assert httpx.get(f"{worker_url(stack, name)}/readyz").status_code == 200
        assert httpx.get(f"{worker_url(stack, name)}/livez").status_code == 200


def test_api_metrics_expose_health_http_and_jobs(stack: Stack, tmp_path: Path) -> None:
    api = stack.urls.api
    wait_for(lambda: healthy(api), 90, "a healthy report", tolerate=RESTARTING)
    missing = "00000000-0000-4000-8000-000000000000"
    with authorized(api) as client:
        assert client.get(f"/api/v1/jobs/{missing}").status_code == 404
    job_id = convert(stack, tmp_path)
    text = httpx.get(f"{api}/api/v1/metrics", timeout=10.0).text
    for line in (
        "docling_health_status 1.0",
        "docling_db_status 1.0",
        'docling_dependency_up{dependency="mcp"} 1.0',
        'docling_circuit_state{service="docling-mcp"} 0.0',
        "docling_sse_connections 0.0",
    ):
        assert line in text, line
    assert 'docling_dependency_latency_seconds{dependency="postgres"}' in text
    assert float(text.split("\ndocling_redis_memory_percent ")[1].split()[0]) < 50
    # requests by route template, never by raw path
    assert 'docling_http_requests_total{method="GET",route="/api/v1/jobs/{job_id}",status="404"}' in text
    assert 'docling_http_requests_total{method="POST",route="/api/v1/jobs",status="202"}' in text
    assert missing not in text and job_id not in text
    assert 'docling_jobs{code="",status="succeeded"}' in text
    assert "# TYPE process_cpu_seconds_total counter" in text  # the default registry is exposed


@pytest.mark.parametrize("component", list(OUTAGES))
def test_health_follows_each_dependency_down_and_back(component: str, stack: Stack) -> None:
    dependency, state, code = OUTAGES[component]
    api = stack.urls.api
    wait_for(lambda: healthy(api), 90, "a healthy report", tolerate=RESTARTING)
    stack.stop_component(component)
    try:

        def reported() -> dict | None:
            response = health(api)
            body = response.json()
            return body if response.status_code == code and body["status"] == state else None

        body = wait_for(reported, 30, f"the report of {dependency} down", tolerate=RESTARTING)
        started = time.monotonic()
        health(api)
        took = time.monotonic() - started  # bounded by the probe timeout, plus room for a loaded machine
        assert took < PROBE_TIMEOUT_S + 4.0, f"a dead dependency stalled the report ({took:.1f} s)"
        assert body["dependencies"][dependency]["status"] == "down"
        assert {n for n, d in body["dependencies"].items() if d["status"] == "down"} == {dependency}
        metrics = httpx.get(f"{api}/api/v1/metrics", timeout=10.0).text
        assert f'docling_dependency_up{{dependency="{dependency}"}} 0.0' in metrics
        assert ("docling_db_status 0.0" in metrics) == (component == "postgres")
        assert f"docling_health_status {0.5 if state == 'degraded' else 0.0}" in metrics
        assert httpx.get(f"{api}/livez").status_code == 200
        assert httpx.get(f"{api}/readyz").status_code == code
        for worker, needs in WORKER_NEEDS.items():
            ready = component not in needs and component != "nats"
            url = worker_url(stack, worker)
            wait_for(ready_is(url, 200 if ready else 503), 30, f"{worker}'s readiness", tolerate=RESTARTING)
            assert httpx.get(f"{url}/livez").status_code == 200
    finally:
        stack.start_component(component)
    wait_for(lambda: healthy(api), 90, "a healthy report", tolerate=RESTARTING)
    for worker in WORKER_NEEDS:
        wait_for(ready_is(worker_url(stack, worker), 200), 90, f"{worker} to be ready", tolerate=RESTARTING)


def authorized(api: str) -> httpx.Client:
    """A client in a session of its own (every job route needs one)."""
    return authorized_client(api, new_session(api), timeout=30.0)


def convert(stack: Stack, tmp_path: Path) -> str:
    """Submit a document and wait until its job succeeded; its id."""
    document = make_docx(tmp_path / "doc.docx")
    with authorized(stack.urls.api) as client, document.open("rb") as handle:
        response = client.post("/api/v1/jobs", files={"file": (document.name, handle)})
        assert response.status_code == 202, response.text
        job = response.json()["links"]["self"]
        wait_for(lambda: client.get(job).json()["status"] == "succeeded", 120, "the job", tolerate=RESTARTING)
    return response.json()["job_id"]


def test_jobs_convert_after_the_outages(stack: Stack, tmp_path: Path) -> None:
    """The outages above left the shared stack working: a job goes through."""
    convert(stack, tmp_path)
