"""How long replaying 1,000 buffered events takes for a reconnecting client.

Starts a private stack (infrastructure, progress, API), puts one job with 1,000 events in the log
(progress projects them into the Redis buffer), then reconnects to the job's SSE stream with
``Last-Event-ID: 0`` several times and times each from the request to the 1,000th event in hand
(the client parses every message). Prints the median and the spread; asserts nothing.

    .venv/bin/python -m bench.sse_replay [--events 1000] [--runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import httpx
import nats
import redis
from httpx_sse import connect_sse

from bench.stacks import private_stack
from contracts import keys
from contracts.envelope import Envelope
from contracts.events import ConversionProgressed, JobSubmitted
from contracts.subjects import STREAM, event_subject
from devstack import Stack
from services.api.adapters.sessions import owner_of
from tests.waiting import wait_for


async def load(url: str, job_id: str, count: int, owner: str) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    events = [
        JobSubmitted(
            job_id=job_id,
            source="bench",
            filename="a.md",
            content_type="text/markdown",
            size_bytes=1,
            sha256="a" * 64,
            staging_object=job_id,
            owner=owner,
        )
    ]
    events += [
        ConversionProgressed(job_id=job_id, source="bench", stage="converting", progress=n % 100)
        for n in range(count - 1)
    ]
    for event in events:
        await js.publish(
            event_subject(job_id, event.event_type),
            Envelope.wrap(event).to_bytes(),
            stream=STREAM,
            headers={"Nats-Msg-Id": event.event_id},
        )
    await nc.close()


def buffered(stack: Stack, job_id: str) -> int:
    client = redis.Redis(host="127.0.0.1", port=stack.ports.redis, password=stack.env()["REDIS_PASSWORD"])
    try:
        return client.zcard(keys.sse_events(job_id))
    finally:
        client.close()


def replay(api_url: str, token: str, job_id: str, count: int) -> float:
    with httpx.Client(base_url=api_url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
        started, seen = time.perf_counter(), 0
        with connect_sse(
            http, "GET", f"/api/v1/jobs/{job_id}/events", headers={"Last-Event-ID": "0"}
        ) as source:
            for sse in source.iter_sse():
                if sse.event != "sync" and sse.data:
                    seen += 1
                    if seen == count:
                        return time.perf_counter() - started
    raise RuntimeError(f"stream ended after {seen} events")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with private_stack("replay", components="infra,progress,api") as (stack, _):
        job_id = str(uuid.uuid4())
        token = httpx.post(f"{stack.urls.api}/api/v1/sessions", timeout=30).json()["session_id"]
        asyncio.run(load(stack.env()["NATS_URL"], job_id, args.events, owner_of(token)))
        wait_for(lambda: buffered(stack, job_id) >= args.events, 60, "the events in the SSE buffer")
        print(f"buffered           {buffered(stack, job_id)} events in sse:events:{job_id}")
        replay(stack.urls.api, token, job_id, args.events)  # warm-up
        times = [replay(stack.urls.api, token, job_id, args.events) for _ in range(args.runs)]
    print(f"replay of {args.events} events to a reconnecting client, {args.runs} runs:")
    print(
        f"median {statistics.median(times) * 1000:.1f} ms   min {min(times) * 1000:.1f} ms   "
        f"max {max(times) * 1000:.1f} ms   (target < 100 ms)"
    )


if __name__ == "__main__":
    main()
