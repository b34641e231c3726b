"""Submit-to-terminal-event time for jobs that arrive at quiet moments, seen on the SSE stream.

Jobs come one at a time with random pauses (0.5-6 s) in between, so each one finds the services
idle: this is what catches a consumer that waits for a batch to fill (the projection once held a
quiet event up to its 5 s fetch timeout). Runs against a running stack (`make up`). Prints numbers.

    .venv/bin/python -m bench.idle_latency [--api http://127.0.0.1:3000] [--jobs 10]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import httpx
from httpx_sse import connect_sse

from contracts.events import TERMINAL_EVENT_TYPES


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", default="http://127.0.0.1:3000")
    parser.add_argument("--jobs", type=int, default=10)
    args = parser.parse_args()
    token = httpx.post(f"{args.api}/api/v1/sessions").json()["session_id"]
    times = []
    with httpx.Client(base_url=args.api, headers={"Authorization": f"Bearer {token}"}, timeout=60) as api:
        for number in range(args.jobs):
            time.sleep(random.uniform(0.5, 6.0))
            started = time.perf_counter()
            document = f"# Note {number} {random.random()}\n\nSome text.\n".encode()
            job = api.post("/api/v1/jobs", files={"file": ("note.md", document)}).json()["job_id"]
            with connect_sse(api, "GET", f"/api/v1/jobs/{job}/events") as source:
                next(e for e in source.iter_sse() if e.event in TERMINAL_EVENT_TYPES)
            times.append((time.perf_counter() - started) * 1000)
    print("submit to terminal event, ms: " + " ".join(f"{t:.0f}" for t in times))
    print(f"median {statistics.median(times):.0f} ms   max {max(times):.0f} ms")


if __name__ == "__main__":
    main()
