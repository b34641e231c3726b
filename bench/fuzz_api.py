"""Schemathesis against a running API at length: generated requests (valid and invalid) for every
operation of ``/schema/openapi.json``; prints the request count, the statuses, and every 5xx or
non-problem+json error. ``tests/integration/test_api_fuzz.py`` runs the same with 300 examples.

    .venv/bin/python -m bench.fuzz_api                       # a private stack, 1000 examples
    .venv/bin/python -m bench.fuzz_api --api-url http://127.0.0.1:3000 --examples 2000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from devstack import Ports, Stack
from tests.integration.fuzz import fuzz
from tests.limits import lift_rate_limits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--api-url", help="a running API (its rate limits must allow the run)")
    parser.add_argument("--examples", type=int, default=1000, help="per operation and mode")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-fuzz-") as tmp:
        stack = None
        if not args.api_url:
            lift_rate_limits()
            stack = Stack(Path(tmp) / "stack", Ports.free())
            print("starting a private stack ...", file=sys.stderr)
            stack.start()
        try:
            started = time.monotonic()
            tally = fuzz(args.api_url or stack.urls.api, args.examples)
            elapsed = time.monotonic() - started
        finally:
            if stack is not None:
                stack.purge()
    server_errors = sum(n for status, n in tally.statuses.items() if status >= 500)
    print(
        f"requests {tally.requests} in {elapsed:.0f} s, 5xx {server_errors}, "
        f"statuses {dict(sorted(tally.statuses.items()))}"
    )
    for failure in tally.failures[:50]:
        print("FAIL", failure)
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
