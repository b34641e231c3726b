"""A NATS outage longer than nats-py's own give-up, then NATS back: nothing needs a restart.

nats-py alone makes 60 reconnection attempts and then closes the connection for good (with its
default 2 s apart: about two minutes). The suite's stack reconnects with the services' real policy
(capped, jittered doubling, never giving up) at small numbers: 0.1 s doubling to 0.25 s
(``tests/reconnect.py``). At that cap the old policy, the same 60 attempts,
would have given up after 60 x 0.25 s = 15 s; this outage lasts until the API has failed more than
60 attempts *and* longer than those 15 s, and the services still come back by themselves. The
real defaults (0.5 s to 10 s) against a 150 s outage: ``bench/nats_outage.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from devstack import Stack
from tests.documents import make_docx
from tests.e2e.helpers import authorized, new_session
from tests.integration.test_health import healthy, worker_url
from tests.reconnect import RECONNECT_CAP_S
from tests.waiting import wait_for

OLD_ATTEMPTS = 60  # nats-py's default max_reconnect_attempts
OLD_GIVE_UP_S = OLD_ATTEMPTS * RECONNECT_CAP_S  # ... at this stack's reconnect cap
WORKERS = ("ingest", "converter", "progress")


def nats_metric(api: str, name: str) -> float:
    """A NATS connection series of the first API instance (at ``/api/v1/metrics``); it must be there."""
    text = httpx.get(f"{api}/api/v1/metrics", timeout=10.0).text
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels.get("dependency") == "nats":
                return s.value
    raise AssertionError(f"{name} is not exposed")


def attempts(api: str) -> float:
    return nats_metric(api, "docling_reconnect_attempts_total")


def lost_lines(stack: Stack, name: str) -> int:
    log = stack.layout.log(name).read_text(errors="replace")
    return sum(1 for line in log.splitlines() if "connection lost; reconnecting" in line and '"nats"' in line)


def warnings(stack: Stack) -> str:
    """The services' warning and error lines since they started (for a failure message)."""
    found = []
    for name in stack.components:
        if name.split("-")[0] in {"api", *WORKERS}:
            lines = stack.layout.log(name).read_text(errors="replace").splitlines()
            found += [f"{name}: {line[:300]}" for line in lines if '"level": "info"' not in line]
    return "\n".join(found[-80:])


def submit(client: httpx.Client, path: Path) -> httpx.Response:
    with path.open("rb") as handle:
        return client.post("/api/v1/jobs", files={"file": (path.name, handle)})


def test_jobs_before_and_after_an_outage_longer_than_the_old_give_up_both_succeed(
    stack: Stack, tmp_path: Path
) -> None:
    api = stack.urls.api
    wait_for(lambda: healthy(api), 90.0, "a healthy API before the outage")
    document = make_docx(tmp_path / "outage.docx")
    before_logs = {name: lost_lines(stack, name) for name in ("api", *WORKERS)}
    with authorized(api, new_session(api), timeout=30.0) as client:
        before = submit(client, document)
        assert before.status_code == 202, before.text
        stack.stop_component("nats")
        started = time.monotonic()
        try:
            # during the outage: not ready, still alive, and a submission is a clear 503
            wait_for(lambda: httpx.get(f"{api}/readyz", timeout=10.0).status_code == 503, 30.0, "/readyz 503")
            refused = submit(client, document)
            assert refused.status_code == 503, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.json()["code"] == "E503" and refused.json()["recovery"]
            assert int(refused.headers["Retry-After"]) > 0
            for name in WORKERS:
                assert httpx.get(f"{worker_url(stack, name)}/readyz", timeout=10.0).status_code == 503
            first = attempts(api)
            wait_for(
                lambda: attempts(api) > first + OLD_ATTEMPTS and time.monotonic() - started > OLD_GIVE_UP_S,
                timeout=120.0,
                what=f"more than {OLD_ATTEMPTS} failed reconnection attempts and {OLD_GIVE_UP_S} s",
            )
            assert httpx.get(f"{api}/livez", timeout=10.0).status_code == 200
            for name in WORKERS:
                assert httpx.get(f"{worker_url(stack, name)}/livez", timeout=10.0).status_code == 200
            assert nats_metric(api, "docling_connection_up") == 0.0
        finally:
            stack.start_component("nats")
        wait_for(lambda: healthy(api), 60.0, "a healthy API after the outage")
        after = submit(client, document)
        assert after.status_code == 202, after.text
        for job in (before.json(), after.json()):
            path = job["links"]["self"]
            try:
                wait_for(
                    lambda path=path: client.get(path).json()["status"] == "succeeded",
                    120.0,
                    f"{path} succeeded",
                )
            except AssertionError as stuck:  # say where it stopped, and what the services said
                raise AssertionError(f"{stuck}: {client.get(path).json()}\n{warnings(stack)}") from None
    assert nats_metric(api, "docling_connection_up") == 1.0
    # each process logged the loss once, not once per attempt
    for name, count in before_logs.items():
        assert lost_lines(stack, name) == count + 1, name
