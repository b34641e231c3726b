"""The converter against a failing MCP server: circuit breaker, deferral, checkpoints (real stack).

The stack's own converters are stopped for these tests; converters of the test's own run as real
processes, talking to the stack's MCP server through ``McpProxy``, with a circuit of their own
(``CONVERTER_BREAKER_NAME``) so the stack's circuit is never touched.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from contracts import keys
from devstack import Stack
from devstack.ports import free_ports
from runtime import bus
from tests.documents import make_docx
from tests.integration.bus import Log, stored_upload
from tests.integration.mcp_proxy import McpProxy
from tests.metrics import metric
from tests.waiting import wait_for, wait_for_async

REPO = Path(__file__).resolve().parents[2]
TOOLS = (
    "convert_document_into_docling_document",
    "export_docling_document_to_markdown",
    "export_docling_document_to_json",
    "export_docling_document_to_html",
)


class Converters:
    """Converter processes of the test's own; every one is SIGKILLed at the end."""

    def __init__(self, stack_env: dict[str, str], logs: Path) -> None:
        self.stack_env, self.logs, self.running = stack_env, logs, []

    def start(self, **settings: str) -> tuple[subprocess.Popen, str]:
        port = free_ports(1)[0]
        env = {**os.environ, **self.stack_env, "CONVERTER_PORT": str(port), **settings}
        log = open(self.logs / f"converter-{port}.log", "wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "services.converter"],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.running.append((process, log))
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            assert process.poll() is None, (self.logs / f"converter-{port}.log").read_text()[-3000:]
            return httpx.get(f"{url}/health", timeout=2).status_code == 200

        wait_for(
            healthy, 60, f"the converter on {port} to be healthy", every=0.2, tolerate=(httpx.HTTPError,)
        )
        return process, url

    def stop_all(self) -> None:
        for process, log in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
            log.close()


@pytest.fixture(scope="module")
def without_stack_converters(stack: Stack) -> Iterator[None]:
    """Stop the stack's converters (so only the test's get jobs); bring them back afterwards."""
    own = [name for name in stack.components if name.split("-")[0] == "converter"]
    for name in own:
        stack.stop_component(name)
    try:
        yield
    finally:
        for name in own:
            stack.start_component(name)


@pytest.fixture
def converters(
    without_stack_converters: None, stack_env: dict[str, str], tmp_path: Path
) -> Iterator[Converters]:
    started = Converters(stack_env, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture
async def redis(stack_env: dict[str, str]) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis(
        host=stack_env["REDIS_HOST"],
        port=int(stack_env["REDIS_PORT"]),
        password=stack_env["REDIS_PASSWORD"],
        decode_responses=True,
    )
    yield client
    await client.aclose()


def circuit_settings(proxy: McpProxy, name: str, **more: str) -> dict[str, str]:
    return {
        "MCP_SERVER_URL": proxy.url,
        "CONVERTER_BREAKER_NAME": name,
        "CONVERTER_BREAKER_FAILURE_THRESHOLD": "3",
        "CONVERTER_BREAKER_RESET_TIMEOUT_S": "2",
        # timeouts a loaded machine does not reach on a healthy call (at 2 s, conversions timed out
        # there once the server was back, and opened the circuit a second time)
        "CONVERTER_BREAKER_PROBE_TIMEOUT_S": "10",
        "CONVERTER_RETRY_DELAY_S": "0.3",
        "CONVERTER_WAIT_POLL_S": "0.2",
        "CONVERTER_MCP_TIMEOUT_S": "10",
        **more,
    }


def tool_calls(mcp_url: str) -> dict[str, float]:
    """Calls that reached the MCP server, by tool (the server's own counter)."""
    base = mcp_url.rsplit("/mcp", 1)[0]
    return {tool: metric([base], "mcp_server_tool_calls_total", tool=tool) for tool in TOOLS}


async def events_of(log: Log, job_id: str, event_type: str) -> list[dict]:
    return [e.data for e in await log.walk(f"jobs.{job_id}.>") if e.event_type == event_type]


async def outcome(log: Log, job_id: str) -> str | None:
    found = await log.outcomes(job_id)
    return found[0].event_type if found else None


@pytest.mark.parametrize(("fault", "code"), [("reset", "E206"), ("garbage", "E200"), ("delay", "E207")])
async def test_a_failing_server_opens_the_shared_circuit_jobs_wait_then_all_finish(
    fault: str, code: str, converters: Converters, stack_env, mcp_url: str, log: Log, broker, redis
) -> None:
    name = f"test-{fault}-{uuid.uuid4().hex[:6]}"
    with McpProxy(mcp_url) as proxy:
        proxy.set(fault, delay_s=20.0)  # delay: past CONVERTER_MCP_TIMEOUT_S=10
        urls = [converters.start(**circuit_settings(proxy, name))[1] for _ in range(2)]
        uploads = [stored_upload(stack_env, make_docx) for _ in range(3)]
        for upload in uploads:
            await bus.publish(broker, upload)

        async def circuit_open() -> bool:
            raw = await redis.get(keys.circuit(name))
            return raw is not None and json.loads(raw)["state"] == "OPEN"

        await wait_for_async(circuit_open, 60, "the circuit to open")
        for upload in uploads:
            await wait_for_async(
                lambda u=upload: events_of(log, u.job_id, "ConversionDeferred"), 30, "a deferred event"
            )
        assert [await outcome(log, u.job_id) for u in uploads] == [None, None, None]
        assert json.loads(await redis.get(keys.circuit(name)))["code"] == code

        proxy.set("pass")
        for upload in uploads:
            await wait_for_async(lambda u=upload: outcome(log, u.job_id), 90, "the job to finish")

    assert [await outcome(log, u.job_id) for u in uploads] == ["ConversionSucceeded"] * 3
    for upload in uploads:
        deferred = await events_of(log, upload.job_id, "ConversionDeferred")
        assert len(deferred) == 1 and deferred[0]["code"] == code, deferred
    assert json.loads(await redis.get(keys.circuit(name)))["state"] == "CLOSED"
    assert (
        metric(urls, "docling_circuit_breaker_transitions_total", from_state="CLOSED", to_state="OPEN") == 1
    )
    assert (
        metric(urls, "docling_circuit_breaker_transitions_total", from_state="OPEN", to_state="HALF_OPEN")
        >= 1
    )
    assert (
        metric(urls, "docling_circuit_breaker_transitions_total", from_state="HALF_OPEN", to_state="CLOSED")
        == 1
    )
    assert metric(urls, "docling_circuit_breaker_trials_total", outcome="succeeded") == 1
    assert metric(urls, "docling_circuit_breaker_failures_total", code=code) >= 3


async def test_a_document_the_server_cannot_read_fails_alone_and_does_not_trip(
    converters: Converters, stack_env, mcp_url: str, log: Log, broker, redis
) -> None:
    name = f"test-tool-{uuid.uuid4().hex[:6]}"
    with McpProxy(mcp_url) as proxy:
        urls = [converters.start(**circuit_settings(proxy, name, CONVERTER_BREAKER_FAILURE_THRESHOLD="1"))[1]]
        broken = stored_upload(stack_env, lambda p: (p.write_bytes(b"PK\x03\x04 not a zip" * 20), p)[1])
        await bus.publish(broker, broken)
        await wait_for_async(lambda: outcome(log, broken.job_id), 60, "the broken job to end")
        good = stored_upload(stack_env, make_docx)
        await bus.publish(broker, good)
        await wait_for_async(lambda: outcome(log, good.job_id), 60, "the good job to end")
    failed = await events_of(log, broken.job_id, "ConversionFailed")
    assert failed and failed[0]["code"] == "E205"
    assert await outcome(log, good.job_id) == "ConversionSucceeded"
    assert await redis.get(keys.circuit(name)) is None  # never written: nothing counted
    assert metric(urls, "docling_circuit_breaker_failures_total") == 0


async def test_a_long_conversion_is_not_redelivered_while_it_runs(
    converters: Converters, stack_env, mcp_url: str, log: Log, broker
) -> None:
    ack_wait = float(os.environ["NATS_ACK_WAIT_S"])
    with McpProxy(mcp_url) as proxy:
        proxy.count(*TOOLS)
        proxy.set("delay", delay_s=ack_wait / 3)  # a dozen round trips: several ack waits in all
        for _ in range(2):
            converters.start(MCP_SERVER_URL=proxy.url, CONVERTER_BREAKER_NAME=f"test-{uuid.uuid4().hex[:6]}")
        upload = stored_upload(stack_env, make_docx)
        started = time.monotonic()
        await bus.publish(broker, upload)
        await wait_for_async(lambda: outcome(log, upload.job_id), 120, "the slow job to end")
        took = time.monotonic() - started
        assert took > 2 * ack_wait, f"not slow enough to prove anything ({took:.1f} s)"
        assert await outcome(log, upload.job_id) == "ConversionSucceeded"
        assert {tool: proxy.calls(tool) for tool in TOOLS} == dict.fromkeys(TOOLS, 1)


async def test_a_converter_killed_mid_job_is_resumed_by_another_without_redoing_stages(
    converters: Converters, stack_env, mcp_url: str, log: Log, broker, db
) -> None:
    with McpProxy(mcp_url) as proxy:
        # our server's exports are asked together: hold the two after markdown, so neither is
        # answered before the kill and the one that resumes makes each exactly once
        proxy.set("hold", hold_markers=("export_docling_document_to_json", "export_docling_document_to_html"))
        first, _ = converters.start(
            MCP_SERVER_URL=proxy.url, CONVERTER_BREAKER_NAME=f"test-{uuid.uuid4().hex[:6]}"
        )
        before = tool_calls(mcp_url)
        upload = stored_upload(stack_env, make_docx)
        await bus.publish(broker, upload)

        async def held() -> bool:
            return proxy.held == 2

        async def checkpointed() -> str | None:
            return await db.fetchval(
                "SELECT body FROM checkpoints WHERE job_id = $1 AND body::jsonb->>'stage' = $2",
                upload.job_id,
                "exporting_markdown",
            )

        await wait_for_async(held, 60, "the JSON and HTML exports to be held")
        checkpoint = json.loads(await wait_for_async(checkpointed, 60, "the markdown stage's checkpoint"))
        assert (checkpoint["version"], checkpoint["stage"]) == (1, "exporting_markdown")
        assert checkpoint["partialResults"]["markdown"] and checkpoint["metadata"]["documentKey"]
        assert checkpoint["metadata"]["fileHash"] == f"sha256:{upload.sha256}"

        shown = subprocess.run(
            [sys.executable, "-m", "services.converter.checkpoints", "show", upload.job_id],
            env={**os.environ, **stack_env},
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        summary = json.loads(shown.stdout)["checkpoint"]
        assert summary["stage"] == "exporting_markdown" and summary["partial"]["markdown"] > 0

        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        proxy.set("pass")
        converters.start(MCP_SERVER_URL=proxy.url, CONVERTER_BREAKER_NAME=f"test-{uuid.uuid4().hex[:6]}")
        await wait_for_async(lambda: outcome(log, upload.job_id), 90, "the job to be resumed and finish")

    assert await outcome(log, upload.job_id) == "ConversionSucceeded"
    after = tool_calls(mcp_url)
    assert {tool: after[tool] - before[tool] for tool in TOOLS} == dict.fromkeys(TOOLS, 1)
    assert await db.fetchval("SELECT count(*) FROM checkpoints WHERE job_id = $1", upload.job_id) == 0
    stages = [e["stage"] for e in await events_of(log, upload.job_id, "ConversionProgressed")]
    assert stages.count("exporting_markdown") == 1 and stages[-1] == "exporting_html"


@pytest.mark.parametrize(("fault", "code"), [("reset", "E206"), ("garbage", "E200")])
async def test_a_pooled_session_that_breaks_is_replaced_and_the_job_goes_on(
    fault: str, code: str, converters: Converters, stack_env, mcp_url: str, log: Log, broker
) -> None:
    with McpProxy(mcp_url) as proxy:
        converters.start(
            **circuit_settings(
                proxy,
                f"test-pool-{uuid.uuid4().hex[:6]}",
                CONVERTER_MCP_SESSIONS="1",
                CONVERTER_BREAKER_FAILURE_THRESHOLD="100",
                CONVERTER_MAX_ATTEMPTS="1000",
            )
        )
        warm = stored_upload(stack_env, make_docx)
        await bus.publish(broker, warm)
        await wait_for_async(lambda: outcome(log, warm.job_id), 60, "the first job (it opens the session)")
        proxy.set(fault)  # on the open session's kept-alive connections too
        upload = stored_upload(stack_env, make_docx)
        await bus.publish(broker, upload)
        await wait_for_async(
            lambda: events_of(log, upload.job_id, "ConversionDeferred"), 30, "a deferred event"
        )
        proxy.set("pass")
        await wait_for_async(lambda: outcome(log, upload.job_id), 60, "the job to finish")
    assert await outcome(log, warm.job_id) == "ConversionSucceeded"
    assert await outcome(log, upload.job_id) == "ConversionSucceeded"
    deferred = await events_of(log, upload.job_id, "ConversionDeferred")
    assert [d["code"] for d in deferred] == [code]


async def test_pooled_sessions_outlive_a_restart_of_the_mcp_server(
    converters: Converters, stack: Stack, stack_env, mcp_url: str, log: Log, broker
) -> None:
    converters.start(
        MCP_SERVER_URL=mcp_url,
        CONVERTER_BREAKER_NAME=f"test-restart-{uuid.uuid4().hex[:6]}",
        CONVERTER_MCP_SESSIONS="1",
    )
    first = stored_upload(stack_env, make_docx)
    await bus.publish(broker, first)
    await wait_for_async(lambda: outcome(log, first.job_id), 60, "the first job (it opens the session)")
    stack.stop_component("mcp")  # the new server knows nothing of the converter's open session
    stack.start_component("mcp")
    second = stored_upload(stack_env, make_docx)
    await bus.publish(broker, second)
    await wait_for_async(lambda: outcome(log, second.job_id), 60, "the second job")
    assert [await outcome(log, u.job_id) for u in (first, second)] == ["ConversionSucceeded"] * 2
    assert await events_of(log, second.job_id, "ConversionDeferred") == []  # a fresh session, at once
