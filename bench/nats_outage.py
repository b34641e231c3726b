"""A NATS outage longer than nats-py's own give-up, with the services' real reconnect defaults.

nats-py alone closes its connection for good after 60 attempts 2 s apart (about two minutes);
the services reconnect for ever (``RECONNECT_WAIT_S`` 0.5 s doubling to ``RECONNECT_MAX_WAIT_S``
10 s). This starts a private stack with those defaults (any RECONNECT_* in the environment is
dropped), submits a job, stops NATS for ``--outage`` seconds (150 by default), watching what the
API and the workers answer meanwhile, starts NATS again, submits a second job, and prints: the
answers seen during the outage, the failed reconnection attempts against the old limit, how long
each service took to be ready again against the backoff cap, both jobs' outcomes, and how many
service processes had to be restarted (their pids before and after). Asserts nothing.

    .venv/bin/python -m bench.nats_outage [--outage 150]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path

import httpx

from bench.stacks import private_stack
from devstack import SERVICES, Stack
from runtime.reconnect import ReconnectPolicy
from tests.documents import make_docx
from tests.metrics import metric

OLD_ATTEMPTS, OLD_WAIT_S = 60, 2.0  # nats-py's defaults: max_reconnect_attempts, reconnect_time_wait
SAMPLE_EVERY_S = 5.0


def submit(client: httpx.Client, path: Path) -> httpx.Response:
    with path.open("rb") as handle:
        return client.post("/api/v1/jobs", files={"file": (path.name, handle)})


def code(url: str) -> int | str:
    try:
        return httpx.get(url, timeout=5.0).status_code
    except httpx.HTTPError as error:
        return type(error).__name__


def worker(stack: Stack, name: str) -> str:
    return f"http://127.0.0.1:{getattr(stack.ports, name)}"


def urls(stack: Stack) -> dict[str, str]:
    return {"api": stack.urls.api, **{n: worker(stack, n) for n in SERVICES if n != "api"}}


def watch_outage(
    stack: Stack, client: httpx.Client, path: Path, outage_s: float
) -> dict[str, collections.Counter]:
    """What each service answers on /readyz and /livez, and a submission, every few seconds."""
    seen: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    ends = time.monotonic() + outage_s
    while time.monotonic() < ends:
        for name, url in urls(stack).items():
            seen[f"{name} /readyz"][code(f"{url}/readyz")] += 1
            seen[f"{name} /livez"][code(f"{url}/livez")] += 1
        refused = submit(client, path)
        seen["POST /api/v1/jobs"][f"{refused.status_code} {refused.json().get('code', '')}"] += 1
        time.sleep(min(SAMPLE_EVERY_S, max(0.0, ends - time.monotonic())))
    return seen


def until_ready(stack: Stack, started: float) -> dict[str, float]:
    """Seconds from NATS back to each service's /readyz 200."""
    waiting, ready = dict(urls(stack)), {}
    while waiting and time.monotonic() - started < 300:
        for name, url in list(waiting.items()):
            if code(f"{url}/readyz") == 200:
                ready[name] = round(time.monotonic() - started, 1)
                del waiting[name]
        time.sleep(0.2)
    return ready


def outcome(client: httpx.Client, job: dict) -> str:
    ends = time.monotonic() + 300
    while time.monotonic() < ends:
        status = client.get(job["links"]["self"]).json()["status"]
        if status in ("succeeded", "failed", "cancelled", "rejected"):
            return status
        time.sleep(0.5)
    return "not terminal after 300 s"


def run(stack: Stack, docs: Path, outage_s: float) -> None:
    api = stack.urls.api
    token = httpx.post(f"{api}/api/v1/sessions", timeout=30).json()["session_id"]
    pids = {name: stack.pid(name) for name in SERVICES}
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        before = submit(client, make_docx(docs / "before.docx")).json()
        attempts_before = metric([f"{api}/api/v1"], "docling_reconnect_attempts_total", dependency="nats")
        stack.stop_component("nats")
        print(f"NATS stopped for {outage_s:.0f} s ...", file=sys.stderr)
        seen = watch_outage(stack, client, docs / "before.docx", outage_s)
        attempts = metric([f"{api}/api/v1"], "docling_reconnect_attempts_total", dependency="nats")
        stack.start_component("nats")
        back = time.monotonic()
        ready = until_ready(stack, back)
        after = submit(client, make_docx(docs / "after.docx")).json()
        outcomes = {"before the outage": outcome(client, before), "after the outage": outcome(client, after)}
    restarted = sum(1 for name, pid in pids.items() if stack.pid(name) != pid)
    report(outage_s, seen, attempts - attempts_before, ready, outcomes, restarted)


def report(outage_s: float, seen: dict, attempts: float, ready: dict, outcomes: dict, restarted: int) -> None:
    policy = ReconnectPolicy()
    old_s = OLD_ATTEMPTS * OLD_WAIT_S
    print(
        f"outage: {outage_s:.0f} s; old give-up: {OLD_ATTEMPTS} attempts x {OLD_WAIT_S:.0f} s = {old_s:.0f} s"
    )
    print(f"outage / old give-up: {outage_s / old_s:.2f}")
    print(
        f"reconnect policy: {policy.base_s} s doubling to {policy.cap_s} s, +/-{policy.jitter:.0%}, no limit"
    )
    print(f"failed reconnection attempts (API, first copy): {attempts:.0f} (old limit {OLD_ATTEMPTS})")
    print("answers during the outage (answer: times):")
    for what, counts in sorted(seen.items()):
        print(f"  {what:<22} " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=str)))
    print(f"ready again after NATS came back, s (backoff cap {policy.cap_s} s):")
    for name in SERVICES:
        print(f"  {name:<10} {ready.get(name, 'not within 300 s')}")
    for when, status in outcomes.items():
        print(f"job submitted {when}: {status}")
    print(f"service processes restarted: {restarted} of {len(SERVICES)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outage", type=float, default=150.0, help="seconds NATS stays down (default 150)")
    args = parser.parse_args()
    for name in ("RECONNECT_WAIT_S", "RECONNECT_MAX_WAIT_S"):
        os.environ.pop(name, None)  # the real defaults
    with private_stack("nats-outage", lift_limits=False) as (stack, tmp):
        (docs := tmp / "docs").mkdir()
        run(stack, docs, args.outage)


if __name__ == "__main__":
    main()
