"""Health rules, tracing configuration, alert rules and the dashboard, without a server."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from opentelemetry.propagate import inject
from opentelemetry.trace import set_span_in_context

from runtime import tracing
from runtime.metrics import subject_pattern
from services.api import health
from services.api.metrics import SSE_CONNECTIONS, counted_stream

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
PANELS = ["Health Overview", "Latency", "Error Rate", "Active Jobs", "SSE Connections", "Redis Memory"]
UP = {"postgres": True, "redis": True, "nats": True, "mcp": True}


@pytest.mark.parametrize(
    ("down", "state"),
    [
        ((), "healthy"),
        (("redis",), "degraded"),
        (("mcp",), "degraded"),
        (("redis", "mcp"), "degraded"),
        (("postgres",), "unhealthy"),
        (("nats",), "unhealthy"),
        (("postgres", "redis"), "unhealthy"),
    ],
)
def test_overall_state_from_the_dependencies(down: tuple[str, ...], state: str) -> None:
    assert health.overall({**UP, **{name: False for name in down}}) == state


def test_an_open_circuit_degrades_and_a_missing_probe_counts_as_down() -> None:
    assert health.overall(UP, "OPEN") == "degraded"
    assert health.overall(UP, "HALF_OPEN") == "healthy"
    assert health.overall({"redis": True, "nats": True, "mcp": True}) == "unhealthy"
    assert health.STATUS_CODES == {"healthy": 200, "degraded": 200, "unhealthy": 503}


def test_redis_memory_percent_uses_maxmemory_else_the_machines_memory() -> None:
    assert health.memory_percent({"used_memory": 50, "maxmemory": 200, "total_system_memory": 1000}) == 25.0
    assert health.memory_percent({"used_memory": 50, "maxmemory": 0, "total_system_memory": 1000}) == 5.0
    assert health.memory_percent({"used_memory": 50}) is None


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        (None, "CLOSED"),
        ('{"state": "OPEN", "failures": 5}', "OPEN"),
        ('{"state": "HALF_OPEN"}', "HALF_OPEN"),
        ("not json", "CLOSED"),
        ('{"state": "WEIRD"}', "CLOSED"),
        ("[1]", "CLOSED"),
    ],
)
def test_circuit_state_from_its_redis_value(raw: str | None, state: str) -> None:
    assert health.circuit_state(raw) == state


@pytest.mark.parametrize(
    ("env", "exports"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False),
    ],
)
def test_traces_are_exported_only_when_otel_variables_ask(env: dict, exports: bool) -> None:
    assert tracing.exporting(env) is exports


@pytest.mark.parametrize(
    ("env", "records"),
    [
        ({}, False),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
    ],
)
def test_a_service_that_does_not_export_keeps_ids_but_records_nothing(env: dict, records: bool) -> None:
    span = tracing.provider("test", tracing.exporting(env)).get_tracer("t").start_span("work")
    context = span.get_span_context()
    carrier: dict[str, str] = {}
    inject(carrier, context=set_span_in_context(span))

    assert context.is_valid  # log lines and traceparent still carry the ids
    assert carrier["traceparent"].split("-")[1] == format(context.trace_id, "032x")
    assert span.is_recording() is records
    assert context.trace_flags.sampled is records


def promtool(*args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: `make install-test` installs Debian's prometheus package"
    return subprocess.run([binary, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60)


def test_alert_rules_are_valid_and_pass_their_unit_tests() -> None:
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", "alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def alert_names() -> list[str]:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    return [rule["alert"] for group in rules["groups"] for rule in group["rules"]]


def test_the_seeds_alerts_are_there_and_unit_tested() -> None:
    names = alert_names()
    assert {
        "DoclingHealthDegraded",
        "DoclingDatabaseDown",
        "DoclingRedisHighMemory",
        "DoclingMcpServerDown",
        "DoclingCircuitOpen",
        "DoclingHighErrorRate",
        "DoclingTooManySseConnections",
    } <= set(names)
    tests = yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text())["tests"]
    tested = {case["alertname"] for test in tests for case in test["alert_rule_test"]}
    assert {"DoclingHealthDegraded", "DoclingDatabaseDown", "DoclingRedisHighMemory"} <= tested


def test_dashboard_has_the_seeds_six_panels_on_exposed_metrics() -> None:
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "docling-jobs.json").read_text())
    titles = [panel["title"] for panel in dashboard["panels"]]
    assert titles == PANELS
    sources = "".join(
        p.read_text() for folder in ("services", "runtime") for p in (ROOT / folder).rglob("metrics.py")
    )
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for metric in set(re.findall(r"\b(docling_[a-z_]+)", target["expr"])):
                assert f'"{metric}"' in sources, f"{panel['title']}: {metric} is not a metric we expose"


def test_claude_md_lists_every_alert_and_panel() -> None:
    manual = (ROOT / "CLAUDE.md").read_text()
    section = manual[manual.index("## Health Monitoring & Alerting") :]
    section = section[: section.index("\n## ", 3)]
    for name in alert_names():
        assert f"`{name}`" in section, name
    for title in PANELS:
        assert title in section


def test_message_metrics_label_job_subjects_by_pattern() -> None:
    assert subject_pattern("jobs.5f0c-1.ConversionProgressed") == "jobs.*.ConversionProgressed"
    assert subject_pattern("jobs.5f0c-1.outcome") == "jobs.*.outcome"
    assert subject_pattern("$JS.API.INFO") == "$JS.API.INFO"


async def test_sse_streams_are_counted_while_open() -> None:
    async def messages():
        yield "a"
        yield "b"

    before = SSE_CONNECTIONS._value.get()
    stream = counted_stream(messages())
    assert await anext(stream) == "a"
    assert SSE_CONNECTIONS._value.get() == before + 1
    await stream.aclose()  # the client went away mid-stream
    assert SSE_CONNECTIONS._value.get() == before
    assert [m async for m in counted_stream(messages())] == ["a", "b"]
    assert SSE_CONNECTIONS._value.get() == before
