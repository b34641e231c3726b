"""Live progress that never loses an event (issue 4's acceptance), against the running stack.

The real client library (``Client.events``, its ``HttpTransport``) follows real jobs through a
fault-injecting proxy (``tests/e2e/proxy.py``). Faults are real: connections reset mid-message, an API
instance SIGKILLed, a Redis buffer deleted, the SSE path refused. Only the client's ``sleep`` is
shortened, so the seed's backoff schedule does not take minutes; what it was asked to wait is recorded
and checked. Pipeline stages are held with SIGSTOP/SIGCONT on the workers to make "mid-job" exact.

Each test prints its seed; ``LIVE_PROGRESS_SEED=<n>`` replays the same fault plan. Cuts are planned
in events (after the k-th one), not bytes or seconds, so a plan does the same on a fast or a loaded
machine.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path

import httpx
import pytest
import redis

from devstack import Stack
from docling_jobs import backoff
from docling_jobs.client import Client, JobEvent
from docling_jobs.live import BACKUP_NOTICE, POLL_INTERVAL_S
from tests.documents import make_markdown
from tests.e2e.helpers import authorized, copies, held, submit
from tests.e2e.proxy import Connection, Cut, Proxy
from tests.logins import redis_login
from tests.waiting import wait_for

JOBS = 100
IN_FLIGHT = 10


@pytest.fixture
def seed() -> int:
    value = int(os.environ.get("LIVE_PROGRESS_SEED", random.randrange(2**32)))
    print(f"LIVE_PROGRESS_SEED={value}")
    return value


# -- helpers -----------------------------------------------------------------------------------


class Follower:
    """``Client.events`` of one job in a thread, collecting events, states and notices."""

    def __init__(self, base_url: str, job_id: str, *, sleep: Callable[[float], None], rng: random.Random):
        self.job_id = job_id
        self.events: list[JobEvent] = []
        self.states: list[dict] = []
        self.notices: list[str] = []
        self.error: BaseException | None = None
        self._client = Client(base_url, sleep=sleep, rng=rng.random)
        self._thread = threading.Thread(target=self._run, name=f"follow-{job_id[:8]}", daemon=True)

    def start(self) -> Follower:
        self._thread.start()
        return self

    def run(self) -> Follower:
        self._run()
        self.raise_error()
        return self

    def join(self, timeout: float) -> Follower:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"the client still follows {self.job_id} after {timeout} s"
        self.raise_error()
        return self

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        try:
            with self._client as client:
                for event in client.events(
                    self.job_id, on_state=self.states.append, on_notice=self.notices.append
                ):
                    self.events.append(event)
        except BaseException as error:
            self.error = error


def scaled(factor: float, record: list[float] | None = None) -> Callable[[float], None]:
    """A sleep that waits ``factor`` of what it is asked (real time), recording what was asked."""

    def sleep(seconds: float) -> None:
        if record is not None:
            record.append(seconds)
        time.sleep(seconds * factor)

    return sleep


def page(base_url: str, job_id: str) -> list[tuple[int, str, dict]]:
    """The job's events from the JSON polling form, read afresh (no proxy)."""
    with authorized(base_url, timeout=30) as http:
        response = http.get(
            f"/api/v1/jobs/{job_id}/events", params={"after": 0}, headers={"Accept": "application/json"}
        )
    assert response.status_code == 200, response.text
    return [(item["id"], item["event"], item["data"]) for item in response.json()["events"]]


def state(base_url: str, job_id: str) -> dict:
    with authorized(base_url, timeout=30) as http:
        response = http.get(f"/api/v1/jobs/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()


def assert_complete(events: list[JobEvent], reference: list[tuple[int, str, dict]], job: dict) -> None:
    """Every event exactly once, in order, ending with the terminal one: the same as the server's."""
    received = [(e.id, e.type, e.envelope) for e in events]
    assert [r[0] for r in received] == list(range(1, len(received) + 1)), "ids not 1, 2, 3, ... exactly once"
    assert received == reference
    assert job["status"] == "succeeded" and job["last_event_id"] == len(received)
    assert events[-1].type == "ConversionSucceeded"
    assert len({e.envelope["event_id"] for e in events}) == len(events)


def for_job(proxy: Proxy, job_id: str, sse: bool = True) -> list[Connection]:
    """The proxied requests for one job's SSE stream (or its other requests)."""

    def is_sse(c: Connection) -> bool:
        return "/events" in c.request_line and "application/json" not in (c.header("accept") or "")

    return [c for c in proxy.connections if job_id in c.request_line and is_sse(c) == sse]


def sync_events(connection: Connection) -> list[dict]:
    """The ``sync`` events the proxy forwarded on one connection (chunk framing and all)."""
    found = []
    for line_block in connection.received.split(b"event: sync")[1:]:
        data = line_block.split(b"data: ", 1)[1].split(b"\r\n", 1)[0].split(b"\n", 1)[0]
        found.append(json.loads(data))
    return found


def refuse_sse(connection: Connection) -> bool:
    """Admit everything but the SSE form of ``/events`` (the JSON polling form passes)."""
    path = connection.request_line.split(" ")[1] if " " in connection.request_line else ""
    return not (
        path.split("?")[0].endswith("/events")
        and "application/json" not in (connection.header("accept") or "")
    )


# -- 1. random cuts across 100 jobs -------------------------------------------------------------

# The fewest events a Markdown job has: JobSubmitted, UploadStored, ConversionStarted, four stage
# events (converting and the three exports), ConversionSucceeded. Cuts planned within them all happen.
EVENTS_AT_LEAST = 8


def cut_plan(rng: random.Random) -> list[Cut]:
    """The cuts of one job's SSE connections, in order: one to three after a few events each (clean
    or mid-message, RST or FIN), sometimes one before any event (mid-headers); all before the last
    event, so every one happens and the client resumes with ``Last-Event-ID`` at least once."""
    points = sorted(rng.sample(range(1, EVENTS_AT_LEAST), rng.randint(1, 3)))  # event ids to cut after
    counts = [b - a for a, b in pairwise([0, *points])]
    if rng.random() < 0.3:  # a connection that delivers nothing (backoff grows; never twice in a row)
        counts.insert(rng.randrange(len(counts) + 1), 0)
    return [
        Cut(after_events=k, into_next=rng.choice([0, rng.randint(1, 400)]), reset=rng.random() < 0.5)
        for k in counts
    ]


def job_of(connection: Connection) -> str | None:
    """The job id of an SSE request (``/api/v1/jobs/{id}/events``), else None."""
    parts = (
        connection.request_line.split(" ")[1].split("?")[0].split("/")
        if " " in connection.request_line
        else []
    )
    sse = "application/json" not in (connection.header("accept") or "")
    return parts[-2] if len(parts) >= 2 and parts[-1] == "events" and sse else None


def deepest_attempt(waits: list[float]) -> int:
    """The longest run of reconnection attempts in a row (1..10) that these backoff waits show."""
    deepest = run = 0
    for waited in waits:
        run = 1 if waited <= backoff.nominal(0) * (1 + backoff.JITTER) else run + 1
        deepest = max(deepest, run)
    return deepest


def test_random_cuts_lose_and_repeat_nothing(
    stack: Stack, api: httpx.Client, tmp_path: Path, seed: int
) -> None:
    upstream, reference_url = stack.api_urls[0], stack.api_urls[-1]
    started = time.monotonic()
    plans: dict[str, list[Cut]] = {}  # each job's cuts, in the order its connections come
    pending: dict[str, list[Cut]] = {}  # ... those not handed out yet
    asked: dict[str, list[float]] = {}  # the backoff waits each job's client asked for

    def plan(connection: Connection) -> Cut | None:
        job_id = job_of(connection)
        left = pending.get(job_id or "", [])
        return left.pop(0) if left else None

    def one(number: int) -> tuple[Follower, list, dict]:
        job = submit(api, make_markdown(tmp_path / f"notes-{number}.md"))
        plans[job["job_id"]] = cut_plan(random.Random(seed + number))
        pending[job["job_id"]] = list(plans[job["job_id"]])
        waits = asked.setdefault(job["job_id"], [])
        follower = Follower(
            proxy.url, job["job_id"], sleep=scaled(0.5, waits), rng=random.Random(seed + number)
        ).run()
        return follower, page(reference_url, job["job_id"]), state(reference_url, job["job_id"])

    with (
        Proxy(upstream, plan=plan, record_limit=0) as proxy,
        ThreadPoolExecutor(IN_FLIGHT) as pool,
    ):
        outcomes = list(pool.map(one, range(JOBS)))

    for follower, reference, job in outcomes:
        assert_complete(follower.events, reference, job)
        assert len(reference) >= EVENTS_AT_LEAST
        assert follower.notices == [], "fell back to polling: this test is about SSE reconnection"
        assert_cut_as_planned(for_job(proxy, follower.job_id), plans[follower.job_id])
    streams = [c for f, _, _ in outcomes for c in for_job(proxy, f.job_id)]
    deepest = max(deepest_attempt(waits) for waits in asked.values())
    print(
        f"{JOBS} jobs, {len(streams)} SSE connections, {sum(c.was_cut for c in streams)} cut, "
        f"deepest backoff attempt {deepest} of {backoff.MAX_TRIES}, {time.monotonic() - started:.1f} s"
    )


def assert_cut_as_planned(streams: list[Connection], cuts: list[Cut]) -> None:
    """Each planned cut happened, and the next connection resumed after exactly the events the cut
    one had delivered; the connection after the last cut ran to the end of the job."""
    assert [c.cut for c in streams] == [*cuts, None]
    assert [c.was_cut for c in streams] == [True] * len(cuts) + [False]
    delivered = [0]
    for cut in cuts:
        delivered.append(delivered[-1] + cut.after_events)
    assert [int(c.header("last-event-id") or 0) for c in streams] == delivered
    assert delivered[-1] > 0, "the plan never had the client resume with Last-Event-ID"


# -- 2. the API instance the client is attached to dies -----------------------------------------


def test_killing_the_attached_api_instance_loses_nothing(stack: Stack, tmp_path: Path, seed: int) -> None:
    survivor, doomed = stack.api_urls[0], stack.api_urls[1]
    outage_over, asked = threading.Event(), []

    def sleep(seconds: float) -> None:  # the first backoff lasts until the job has moved on without us
        asked.append(seconds)
        if len(asked) == 1:
            outage_over.wait(90)

    try:
        with Proxy(doomed) as proxy, authorized(survivor) as http:
            with held(stack, *copies(stack, "converter")):
                job_id = submit(http, make_markdown(tmp_path / "a.md"))["job_id"]
                follower = Follower(proxy.url, job_id, sleep=sleep, rng=random.Random(seed)).start()
                wait_for(lambda: len(follower.events) >= 2, 30, "JobSubmitted and UploadStored through api-2")
                seen_before = len(follower.events)
                stack.kill("api-2")
                wait_for(lambda: stack.pid("api-2") is None, 30, "api-2 to die")
                proxy.upstream = survivor
                wait_for(lambda: asked, 30, "the client to notice the lost connection")
            wait_for(lambda: state(survivor, job_id)["status"] == "succeeded", 60, "the job to succeed")
            outage_over.set()
            follower.join(30)
    finally:
        outage_over.set()
        stack.start_component("api-2")

    assert seen_before == 2
    assert_complete(follower.events, page(survivor, job_id), state(survivor, job_id))
    streams = for_job(proxy, job_id)
    assert streams[0].upstream == doomed and streams[0].header("last-event-id") is None
    resumed = streams[1]
    assert resumed.upstream == survivor and resumed.header("last-event-id") == str(seen_before)
    assert len(streams) == 2 and follower.notices == []
    assert 0.9 <= asked[0] <= 1.1  # the seed's first backoff, jittered
    assert state(stack.api_urls[1], job_id)["status"] == "succeeded"  # api-2 is back


# -- 3. the Redis buffer is deleted mid-job ------------------------------------------------------


def test_deleted_buffer_is_replayed_from_the_archive(stack: Stack, tmp_path: Path, seed: int) -> None:
    api_url = stack.api_urls[0]
    with (
        Proxy(api_url) as proxy,
        authorized(api_url) as http,
        redis.Redis(**redis_login(stack)) as buffers,
    ):
        with held(stack, *copies(stack, "converter")):
            with held(stack, *copies(stack, "ingest")):
                job_id = submit(http, make_markdown(tmp_path / "b.md"))["job_id"]
                follower = Follower(proxy.url, job_id, sleep=scaled(0.01), rng=random.Random(seed)).start()
                wait_for(lambda: len(follower.events) == 1, 30, "JobSubmitted")
                proxy.freeze()  # from here the client's connection forwards nothing
            wait_for(lambda: state(api_url, job_id)["last_event_id"] == 2, 30, "UploadStored")
            assert buffers.zcard(f"sse:events:{job_id}") == 2
            assert buffers.delete(f"sse:events:{job_id}") == 1  # mid-job: no converter runs
            assert proxy.cut_all() == 1  # ... and the client's connection is cut right after
            wait_for(lambda: len(follower.events) == 2, 30, "UploadStored, replayed")
        follower.join(60)

    assert_complete(follower.events, page(api_url, job_id), state(api_url, job_id))
    first, resumed, *_ = for_job(proxy, job_id)
    assert first.was_cut and resumed.header("last-event-id") == "1"
    verdict = sync_events(resumed)[0]["replay"]
    assert verdict == {"complete": True, "source": "archive", "first": 2, "last": 2}
    assert follower.notices == []


# -- 4. the SSE endpoint is unreachable: polling ----------------------------------------------


def test_unreachable_sse_falls_back_to_polling(stack: Stack, tmp_path: Path, seed: int) -> None:
    api_url, asked = stack.api_urls[0], []
    with Proxy(api_url, admit=refuse_sse) as proxy, authorized(api_url) as http:
        with held(stack, *copies(stack, "converter")):
            job_id = submit(http, make_markdown(tmp_path / "c.md"))["job_id"]
            follower = Follower(proxy.url, job_id, sleep=scaled(0.01, asked), rng=random.Random(seed)).start()
            wait_for(lambda: follower.notices, 30, "the backup-connection notice")
        follower.join(60)

    assert follower.notices == [BACKUP_NOTICE]
    assert_complete(follower.events, page(api_url, job_id), state(api_url, job_id))
    sse, polls = for_job(proxy, job_id), for_job(proxy, job_id, sse=False)
    assert len(sse) == 1 + backoff.MAX_TRIES and not any(c.admitted for c in sse)
    assert all(c.admitted for c in polls) and len(polls) >= 2
    backoffs, poll_waits = asked[: backoff.MAX_TRIES], asked[backoff.MAX_TRIES :]
    for attempt, waited in enumerate(backoffs):
        nominal = min(backoff.MAX_S, backoff.BASE_S * backoff.FACTOR**attempt)
        assert nominal * 0.9 <= waited <= nominal * 1.1, (attempt, waited)
    assert poll_waits and set(poll_waits) == {POLL_INTERVAL_S}
    assert follower.states[-1]["status"] == "succeeded"


# -- 5. the CLI says so -------------------------------------------------------------------------

# The CLI's own code (``cli.main``), with only the client's sleep shortened: the seed's ten backoff
# waits would otherwise take about three minutes. Everything else (HTTP, the proxy, the stack) is real.
FAST_CLI = """
import sys, time
from docling_jobs import cli
class FastClient(cli.Client):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, sleep=lambda seconds: time.sleep(seconds / 100), **kwargs)
cli.Client = FastClient
sys.exit(cli.main(sys.argv[1:]))
"""


def test_cli_announces_the_backup_connection(stack: Stack, tmp_path: Path, seed: int) -> None:
    source, out = make_markdown(tmp_path / "d.md"), tmp_path / "d.out.md"
    with Proxy(stack.api_urls[0], admit=refuse_sse) as proxy:
        done = subprocess.run(
            [sys.executable, "-c", FAST_CLI, "--api-url", proxy.url, "convert", str(source), "-o", str(out)],
            capture_output=True,
            text=True,
            timeout=90,
            cwd=Path(__file__).parents[2],
            env={**os.environ, "PYTHONPATH": str(Path(backoff.__file__).parents[1])},  # the SDK, clients/
        )
    assert done.returncode == 0, done.stderr
    assert BACKUP_NOTICE in done.stderr and "100%" in done.stderr
    assert "Release notes" in out.read_text()
    refused = [c for c in proxy.connections if not c.admitted]
    assert len(refused) == 1 + backoff.MAX_TRIES


# -- found while writing these tests -----------------------------------------------------------


def test_an_id_beyond_the_archive_range_is_not_a_server_error(stack: Stack, tmp_path: Path) -> None:
    """``after`` (or ``Last-Event-ID``) may have up to 19 digits (``domain.parse_last_event_id``), but
    ``event_archive.job_seq`` is an ``integer``: from 2**31 on, the archive query cannot bind it and
    the API answers 500 E500. Any non-negative id must give a page (none after it) or a 400 E100.
    The SSE form hits the same query (after its headers were sent) on a job that has not ended."""
    with authorized(stack.api_urls[0], timeout=30) as http:
        job_id = submit(http, make_markdown(tmp_path / "e.md"))["job_id"]
        for after in (2**31 - 1, 2**31, 10**19 - 1):
            response = http.get(
                f"/api/v1/jobs/{job_id}/events",
                params={"after": after},
                headers={"Accept": "application/json"},
            )
            if response.status_code == 400:
                assert response.json()["code"] == "E100"
            else:
                assert response.status_code == 200, f"after={after}: {response.status_code} {response.text}"
                assert response.json()["events"] == []
