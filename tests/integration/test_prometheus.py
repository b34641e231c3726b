"""A real Prometheus (Debian's package) scrapes the running stack with deploy/prometheus's files."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
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


def until(check: Callable[[], object], timeout: float) -> object:
    return wait_for(check, timeout, "Prometheus to see it", every=0.5)


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

    until(all_up, timeout=60)
    assert until(lambda: value(prometheus, "min(docling_health_status)") == 1.0, timeout=30)
    assert value(prometheus, "max(docling_redis_memory_percent)") < 80
    # FastStream's message metrics and the outcomes come from the workers' own ports
    for job in ("docling-ingest", "docling-converter"):
        until(
            lambda: value(prometheus, f'sum(faststream_received_messages_total{{job="{job}"}})'), timeout=60
        )
    until(
        lambda: value(prometheus, 'sum(docling_job_outcomes_total{outcome="ConversionSucceeded"})'),
        timeout=60,
    )
    # subjects are labelled by pattern, never one series per job
    assert value(prometheus, 'count(faststream_published_messages_total{destination="jobs.*.UploadStored"})')
    assert value(prometheus, 'count({__name__=~"faststream_.+", handler=~"jobs[.][^*].*"})') is None
    assert value(prometheus, 'count({__name__=~"faststream_.+", destination=~"jobs[.][^*].*"})') is None
    until(
        lambda: value(prometheus, 'count(docling_conversion_stage_seconds_count{stage="converting"})'),
        timeout=60,
    )

    stack.stop_component("valkey")
    try:
        until(lambda: value(prometheus, "max(docling_health_status)") == 0.5, timeout=30)
        until(lambda: value(prometheus, 'max(docling_dependency_up{dependency="redis"})') == 0.0, timeout=30)
        alerts = until(
            lambda: [
                a
                for a in (api(prometheus, "alerts") or {}).get("alerts", [])
                if a["labels"]["alertname"] == "DoclingHealthDegraded"
            ],
            timeout=30,
        )
        assert alerts[0]["state"] == "pending"  # fires after a minute of it
    finally:
        stack.start_component("valkey")
    until(lambda: value(prometheus, "min(docling_health_status)") == 1.0, timeout=60)
