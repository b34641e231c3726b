"""A real Prometheus (Debian's package) scrapes the running stack with deploy/prometheus's files."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from devstack import Stack
from devstack.ports import free_ports
from tests.documents import make_docx
from tests.e2e.helpers import new_session
from tests.servers import OWN
from tests.waiting import wait_for

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


def targets_of(stack: Stack) -> dict[str, list[str]]:
    """The stack's address of every job in deploy/prometheus/prometheus.yml, copies included."""

    def ports(service: str) -> list[int]:
        copies = [port for name, port in stack.copy_ports.items() if name.rsplit("-", 1)[0] == service]
        return [getattr(stack.ports, service), *copies]

    found = {
        f"docling-{s}": [f"127.0.0.1:{p}" for p in ports(s)]
        for s in ("api", "ingest", "converter", "progress")
    }
    found["docling-mcp-server"] = [f"127.0.0.1:{stack.ports.mcp}"] if OWN else []
    return found


@pytest.fixture
def prometheus(stack: Stack, tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("prometheus")
    assert binary, "prometheus is not installed: `make install-test` installs Debian's package"
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "2s", "evaluation_interval": "1s", "scrape_timeout": "2s"}
    config["rule_files"] = [str(DEPLOY / name) for name in config["rule_files"]]
    targets = targets_of(stack)
    assert {job["job_name"] for job in config["scrape_configs"]} == set(targets)
    config["scrape_configs"] = [
        {**job, "static_configs": [{"targets": targets[job["job_name"]]}]}
        for job in config["scrape_configs"]
        if targets[job["job_name"]]
    ]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_ports(1)[0]
    with (tmp_path / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=log,
        )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)


def api(base: str, path: str, **query: str) -> dict | None:
    try:
        url = f"{base}/api/v1/{path}?{urllib.parse.urlencode(query)}"
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response)["data"]
    except OSError:
        return None


def value(base: str, expr: str) -> float | None:
    data = api(base, "query", query=expr)
    return float(data["result"][0]["value"][1]) if data and data["result"] else None


def test_prometheus_scrapes_every_service_and_sees_health_degrade(
    prometheus: str, stack: Stack, tmp_path: Path
) -> None:
    document = make_docx(tmp_path / "scraped.docx")
    token = new_session(stack.urls.api)
    with document.open("rb") as handle:  # a job, so the workers' message metrics have series
        assert (
            httpx.post(
                f"{stack.urls.api}/api/v1/jobs",
                files={"file": (document.name, handle)},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30.0,
            ).status_code
            == 202
        )
    expected = sum(len(t) for t in targets_of(stack).values())

    def all_up() -> bool:
        data = api(prometheus, "targets")
        active = data["activeTargets"] if data else []
        return len(active) == expected and all(t["health"] == "up" for t in active)

    wait_for(all_up, 60, "every target up", every=0.5)
    assert wait_for(lambda: value(prometheus, "min(docling_health_status)") == 1.0, 30, "health 1", every=0.5)
    assert value(prometheus, "max(docling_redis_memory_percent)") < 80
    # FastStream's message metrics and the outcomes come from the workers' own ports
    for job in ("docling-ingest", "docling-converter"):
        query = f'sum(faststream_received_messages_total{{job="{job}"}})'
        wait_for(lambda q=query: value(prometheus, q), 60, f"{job}'s received messages", every=0.5)
    succeeded = 'sum(docling_job_outcomes_total{outcome="ConversionSucceeded"})'
    wait_for(lambda: value(prometheus, succeeded), 60, "a succeeded outcome", every=0.5)
    # subjects are labelled by pattern, never one series per job
    assert value(prometheus, 'count(faststream_published_messages_total{destination="jobs.*.UploadStored"})')
    assert value(prometheus, 'count({__name__=~"faststream_.+", handler=~"jobs[.][^*].*"})') is None
    assert value(prometheus, 'count({__name__=~"faststream_.+", destination=~"jobs[.][^*].*"})') is None
    stage = 'count(docling_conversion_stage_seconds_count{stage="converting"})'
    wait_for(lambda: value(prometheus, stage), 60, "the converting stage's histogram", every=0.5)

    stack.stop_component("valkey")
    try:
        wait_for(lambda: value(prometheus, "max(docling_health_status)") == 0.5, 30, "health 0.5", every=0.5)
        redis_up = 'max(docling_dependency_up{dependency="redis"})'
        wait_for(lambda: value(prometheus, redis_up) == 0.0, 30, "Redis down", every=0.5)
        alerts = wait_for(
            lambda: [
                a
                for a in (api(prometheus, "alerts") or {}).get("alerts", [])
                if a["labels"]["alertname"] == "DoclingHealthDegraded"
            ],
            30,
            "the DoclingHealthDegraded alert",
            every=0.5,
        )
        assert alerts[0]["state"] == "pending"  # fires after a minute of it
    finally:
        stack.start_component("valkey")
    wait_for(lambda: value(prometheus, "min(docling_health_status)") == 1.0, 60, "health 1 again", every=0.5)
