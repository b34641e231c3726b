"""Events per second one progress instance projects into PostgreSQL and Redis.

Starts a private stack of the infrastructure and one progress service, stops progress, loads the
JOBS stream with N events (jobs of 8 events each, as a real job has), starts progress again and
times how long it takes to drain the backlog (every event archived, numbered, folded into its job,
buffered and announced in Redis). Prints the rate; asserts nothing.

    .venv/bin/python -m bench.projection [--jobs 2500]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import nats

from bench.stacks import private_stack
from contracts.envelope import Envelope
from contracts.events import (
    ConversionProgressed,
    ConversionStarted,
    ConversionSucceeded,
    JobSubmitted,
    UploadStored,
)
from contracts.subjects import STREAM, event_subject


def job_events(job_id: str) -> list:
    sha = uuid.uuid4().hex * 2
    common = {"job_id": job_id}
    return [
        JobSubmitted(
            **common,
            source="api",
            filename="a.docx",
            content_type="x",
            size_bytes=10,
            sha256=sha,
            staging_object=job_id,
            owner="",
        ),
        UploadStored(
            **common, source="ingest", sha256=sha, size_bytes=10, path="/u/a.docx", filename="a.docx"
        ),
        ConversionStarted(**common, source="converter", mcp_server="http://m"),
        *[
            ConversionProgressed(**common, source="converter", stage=stage, progress=p)
            for stage, p in (
                ("converting", 60),
                ("exporting_markdown", 75),
                ("exporting_json", 85),
                ("exporting_html", 95),
            )
        ],
        ConversionSucceeded(
            **common, source="converter", formats=["markdown"], result_sha256={"markdown": sha}, duration_ms=1
        ),
    ]


async def load(url: str, jobs: int) -> int:
    nc = await nats.connect(url)
    js, sent = nc.jetstream(), 0
    pending = []
    for _ in range(jobs):
        for event in job_events(str(uuid.uuid4())):
            pending.append(
                js.publish(
                    event_subject(event.job_id, event.event_type, event.terminal),
                    Envelope.wrap(event).to_bytes(),
                    stream=STREAM,
                    headers={"Nats-Msg-Id": event.event_id},
                )
            )
            sent += 1
        if len(pending) >= 512:
            await asyncio.gather(*pending)
            pending.clear()
    await asyncio.gather(*pending)
    await nc.close()
    return sent


async def backlog(url: str) -> int:
    nc = await nats.connect(url)
    try:
        info = await nc.jetstream().consumer_info(STREAM, "progress")
        return info.num_pending + info.num_ack_pending
    finally:
        await nc.close()


async def drain(url: str) -> tuple[int, float]:
    started, first = time.perf_counter(), await backlog(url)
    while await backlog(url) > 0:  # noqa: ASYNC110 - the backlog lives in another process
        await asyncio.sleep(0.05)
    return first, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2500, help="jobs of 8 events each (default 2500)")
    args = parser.parse_args()
    with private_stack("projection", lift_limits=False, components="infra,progress") as (stack, _):
        url = stack.env()["NATS_URL"]
        stack.stop_component("progress")
        sent = asyncio.run(load(url, args.jobs))
        stack.start_component("progress")  # ready once its consumer runs
        projected, seconds = asyncio.run(drain(url))
    print(f"events loaded      {sent} ({args.jobs} jobs x 8)")
    print(f"drained            {projected} events in {seconds:.2f} s after progress was ready")
    print(f"projection rate    {projected / seconds:,.0f} events/s (one progress instance; target >= 5,000)")


if __name__ == "__main__":
    main()
