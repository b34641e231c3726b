"""The converter's handling of failures, waiting and checkpoints, with in-memory stand-ins.

The real MCP server, Redis and PostgreSQL are exercised by tests/integration/test_resilience.py;
here the order of decisions is checked step by step with a fake clock.
"""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager

import pytest

from contracts.events import UploadStored
from runtime.bus import OutcomeTaken
from services.converter import breaker, handlers
from services.converter.breaker import Circuit, Config
from services.converter.checkpoint_format import Checkpoint
from services.converter.domain import EXPORT_STAGES, TimedOut, ToolFailed, Unreachable
from tests.clock import FakeClock


class MemoryCircuit:
    """The pure breaker on a local variable (what SharedCircuit does on Redis)."""

    def __init__(self, clock: FakeClock, config: Config, probe_ok=lambda: True) -> None:
        self.circuit, self.clock, self.config, self.probe_ok = Circuit(), clock, config, probe_ok
        self.trials = 0

    async def admit(self):
        self.circuit, admission = breaker.admit(self.circuit, self.config, self.clock())
        if admission.kind != "trial":
            return admission
        self.trials += 1
        if self.probe_ok():
            self.circuit = breaker.succeeded(self.circuit, self.config, self.clock(), trial=True)
            return breaker.CALL
        self.circuit = breaker.failed(self.circuit, self.config, self.clock(), "E206", trial=True)
        return breaker.admit(self.circuit, self.config, self.clock())[1]

    async def failed(self, code: str) -> None:
        self.circuit = breaker.failed(self.circuit, self.config, self.clock(), code, trial=False)


class Store:
    def __init__(self) -> None:
        self.saved: dict[str, Checkpoint] = {}
        self.history: list[str] = []

    async def load(self, job_id):
        return self.saved.get(job_id)

    async def save(self, job_id, checkpoint):
        self.saved[job_id] = checkpoint
        self.history.append(checkpoint.stage)

    async def clear(self, job_id):
        return self.saved.pop(job_id, None) is not None


class Results:
    def __init__(self) -> None:
        self.saved = {}

    async def save(self, job_id, outputs):
        self.saved[job_id] = outputs
        return {fmt: "0" * 64 for fmt in outputs}


class Server:
    """A scripted MCP server: ``script`` lists what each call does (an exception or None)."""

    def __init__(self, script=()) -> None:
        self.script, self.calls = list(script), []
        self.exports_content = True
        self.known = set()

    async def _call(self, tool, key=None):
        self.calls.append(tool)
        if self.script:
            outcome = self.script.pop(0)
            if outcome is not None:
                raise outcome
        if key is not None and key not in self.known:
            raise ToolFailed(f"{tool}: document {key} not in cache")

    async def convert(self, source, progress=None):
        await self._call("convert")
        key = f"key-{len(self.known)}"
        self.known.add(key)
        return key

    async def markdown(self, key):
        await self._call("markdown", key)
        return "# md"

    async def json(self, key):
        await self._call("json", key)
        return "{}"

    async def html(self, key):
        await self._call("html", key)
        return "<p>"


BREAKER = Config(3, 10.0, 60.0, 5.0)


def make(server: Server, *, config=BREAKER, probe_ok=lambda: True, ended=lambda: False):
    clock, events = FakeClock(), []

    @asynccontextmanager
    async def open_session():
        yield server

    async def publish(event):
        if ended() and event.event_type != "JobCancelled":
            raise OutcomeTaken(event.job_id)
        events.append(event)
        return len(events)

    async def has_outcome(job_id):
        return ended()

    deps = handlers.Deps(
        open_session=open_session,
        read_saved_json=None,
        results=Results(),
        publish=publish,
        server_url="http://mcp",
        circuit=MemoryCircuit(clock, config, probe_ok),
        checkpoints=Store(),
        has_outcome=has_outcome,
        patience=handlers.Patience(retry_delay_s=1.0, max_attempts=10, defer_limit_s=600.0, poll_s=0.5),
        clock=clock,
        sleep=clock.sleep,
    )
    return deps, events, clock


def upload() -> UploadStored:
    return UploadStored(
        job_id=str(uuid.uuid4()),
        source="ingest",
        sha256="a" * 64,
        size_bytes=3,
        path="/u/a.docx",
        filename="a.docx",
    )


def types(events) -> list[str]:
    return [e.event_type for e in events]


async def test_a_clean_run_checkpoints_every_stage_and_clears_the_checkpoint() -> None:
    server = Server()
    deps, events, _ = make(server)
    event = upload()
    await handlers.on_upload_stored(event, deps)
    assert types(events)[0] == "ConversionStarted" and types(events)[-1] == "ConversionSucceeded"
    assert deps.checkpoints.history == [
        "converting",
        "exporting_markdown",
        "exporting_json",
        "exporting_html",
    ]
    assert deps.checkpoints.saved == {} and server.calls == ["convert", "markdown", "json", "html"]


async def test_a_tool_error_fails_the_job_and_does_not_count_toward_the_circuit() -> None:
    deps, events, _ = make(Server([ToolFailed("docling could not read it")]))
    event = upload()
    await handlers.on_upload_stored(event, deps)
    failed = events[-1]
    assert (failed.event_type, failed.code, failed.stage) == ("ConversionFailed", "E205", "converting")
    assert deps.circuit.circuit == Circuit()


async def test_a_failing_server_defers_the_job_once_then_it_resumes_without_redoing_stages() -> None:
    # markdown is done, then the server drops: two failures of the JSON export, then it answers
    # again (the HTML export, asked at the same time as the JSON one, came back the first time)
    server = Server([None, None, Unreachable("refused"), None, TimedOut("slow")])
    deps, events, _ = make(server)
    event = upload()
    await handlers.on_upload_stored(event, deps)
    deferred = [e for e in events if e.event_type == "ConversionDeferred"]
    assert len(deferred) == 1
    assert (deferred[0].code, deferred[0].reason, deferred[0].stage) == (
        "E206",
        "server_failure",
        "exporting_json",
    )
    assert types(events)[-1] == "ConversionSucceeded"
    assert server.calls == ["convert", "markdown", "json", "html", "json", "json"]
    assert len(deps.circuit.circuit.failures) == 2


async def test_an_open_circuit_makes_the_job_wait_for_the_trial_then_finish() -> None:
    server = Server([Unreachable("down")] * 3)
    deps, events, clock = make(server)
    start = clock.now
    await handlers.on_upload_stored(upload(), deps)
    assert types(events).count("ConversionDeferred") == 1
    assert types(events)[-1] == "ConversionSucceeded"
    assert deps.circuit.trials == 1 and deps.circuit.circuit.state is breaker.State.CLOSED
    assert clock.now - start >= 10.0  # it waited out the reset timeout
    assert server.calls.count("convert") == 4  # three failures, then the one that worked


async def test_the_job_fails_with_the_servers_code_after_max_attempts() -> None:
    server = Server([TimedOut("slow")] * 50)
    deps, events, _ = make(server, config=Config(100, 10.0, 60.0, 5.0))
    await handlers.on_upload_stored(upload(), deps)
    assert types(events)[-1] == "ConversionFailed" and events[-1].code == "E207"
    assert server.calls.count("convert") == 10


async def test_the_job_fails_once_it_has_waited_past_the_defer_limit() -> None:
    deps, events, clock = make(Server([Unreachable("down")] * 3), probe_ok=lambda: False)
    start = clock.now
    await handlers.on_upload_stored(upload(), deps)
    assert types(events)[-1] == "ConversionFailed" and events[-1].code == "E206"
    assert 600.0 <= clock.now - start < 700.0
    assert types(events).count("ConversionDeferred") == 1


async def test_a_job_cancelled_while_it_waits_stops_waiting() -> None:
    cancelled = {"now": False}
    server = Server([Unreachable("down")] * 3)
    deps, events, clock = make(server, probe_ok=lambda: False, ended=lambda: cancelled["now"])
    original = clock.sleep

    async def sleep(seconds):
        await original(seconds)
        if clock.now > 1_020:
            cancelled["now"] = True

    deps.sleep = sleep
    await handlers.on_upload_stored(upload(), deps)
    assert "ConversionFailed" not in types(events) and "ConversionSucceeded" not in types(events)
    assert clock.now < 1_030


async def test_a_checkpoint_lets_another_delivery_skip_finished_stages() -> None:
    server = Server()
    deps, events, _ = make(server)
    event = upload()
    server.known.add("key-0")
    deps.checkpoints.saved[event.job_id] = (
        Checkpoint.start(1, f"sha256:{event.sha256}", "r")
        .converted("key-0", 60, 2)
        .exported("exporting_markdown", "markdown", "# kept", 75, 3)
    )
    await handlers.on_upload_stored(event, deps)
    assert server.calls == ["json", "html"]
    assert "ConversionStarted" not in types(events) and types(events)[-1] == "ConversionSucceeded"
    assert deps.results.saved[event.job_id]["markdown"] == "# kept"


async def test_a_checkpointed_key_the_server_lost_is_converted_again_once() -> None:
    server = Server()
    deps, events, _ = make(server)
    event = upload()
    deps.checkpoints.saved[event.job_id] = (
        Checkpoint.start(1, f"sha256:{event.sha256}", "r")
        .converted("gone", 60, 2)
        .exported("exporting_markdown", "markdown", "# kept", 75, 3)
    )
    await handlers.on_upload_stored(event, deps)
    assert server.calls == ["json", "html", "convert", "json", "html"]  # both asked with the lost key
    assert types(events)[-1] == "ConversionSucceeded"


@pytest.mark.parametrize(
    ("content", "formats", "calls", "exported"),
    [
        (True, ["markdown"], ["convert", "markdown"], ["markdown"]),
        (True, ["html", "json"], ["convert", "json", "html"], ["json", "html"]),
        # the official server: HTML is rendered from the JSON, so the JSON is exported too
        (False, ["html"], ["convert", "save"], ["json", "html"]),
    ],
)
async def test_a_job_exports_only_the_formats_it_asks_for(
    content, formats, calls, exported, monkeypatch
) -> None:
    server = Server()
    server.exports_content = content

    async def save(key):
        await server._call("save", key)
        return {"json_file": "x.json"}

    async def rendered(text):
        return "<p>from json</p>"

    server.save = save
    monkeypatch.setattr(handlers, "html_from_json", rendered)
    deps, events, _ = make(server)
    deps.read_saved_json = lambda saved: _text("{}")
    event = upload().model_copy(update={"formats": formats})
    await handlers.on_upload_stored(event, deps)
    assert server.calls == calls
    assert sorted(deps.results.saved[event.job_id]) == sorted(formats)
    assert types(events)[-1] == "ConversionSucceeded" and sorted(events[-1].formats) == sorted(formats)
    stages = [e.stage for e in events if e.event_type == "ConversionProgressed"]
    assert stages == ["converting", *(EXPORT_STAGES[f] for f in exported)]


async def _text(value: str) -> str:
    return value


@pytest.mark.parametrize("file_hash", ["sha256:" + "b" * 64, None])
async def test_a_checkpoint_of_other_content_is_ignored(file_hash) -> None:
    server = Server()
    deps, events, _ = make(server)
    event = upload()
    deps.checkpoints.saved[event.job_id] = Checkpoint.start(1, file_hash, "r").converted("key-9", 60, 2)
    await handlers.on_upload_stored(event, deps)
    assert server.calls[0] == "convert" and types(events)[0] == "ConversionStarted"


async def test_a_failed_job_keeps_its_checkpoint() -> None:
    server = Server([None, ToolFailed("export broke")])  # converted, then the markdown export fails
    deps, events, _ = make(server)
    event = upload()
    await handlers.on_upload_stored(event, deps)
    assert types(events)[-1] == "ConversionFailed" and events[-1].stage == "exporting_markdown"
    assert deps.checkpoints.saved[event.job_id].stage == "converting"


class ReportingServer(Server):
    """Sends progress notifications during the conversion, ``step_s`` of the fake clock apart."""

    def __init__(self, clock: FakeClock, percents: list[float], step_s: float) -> None:
        super().__init__()
        self.clock, self.percents, self.step_s = clock, percents, step_s

    async def convert(self, source, progress=None):
        for percent in self.percents:
            self.clock.now += self.step_s
            await progress(percent, 100.0)
        return await super().convert(source)


def converting_progress(events) -> list[int]:
    return [
        e.progress
        for e in events
        if e.event_type == "ConversionProgressed" and e.stage == "converting" and e.progress < 60
    ]


@pytest.mark.parametrize(
    ("step_s", "shown"),
    [
        (0.01, []),  # a short conversion: its notifications add no events
        (0.3, [15, 30, 45]),  # a long one: one event at most every 0.5 s, never going back
    ],
)
async def test_server_progress_becomes_events_at_most_every_interval(step_s: float, shown: list[int]) -> None:
    deps, events, clock = make(Server())
    deps.open_session = asynccontextmanager(
        lambda: _yield(ReportingServer(clock, [2, 10, 20, 40, 60, 80, 100], step_s))
    )
    await handlers.on_upload_stored(upload(), deps)
    assert deps.progress_interval_s == 0.5
    assert converting_progress(events) == shown
    assert types(events)[-1] == "ConversionSucceeded"


async def _yield(value):
    yield value
