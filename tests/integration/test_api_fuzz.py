"""Generated requests against every documented operation: zero 5xx, every error problem+json."""

from __future__ import annotations

import os

from tests.integration.fuzz import fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))  # per operation and mode; bench/fuzz_api.py runs more


def test_generated_requests_never_get_a_server_error(api_url: str) -> None:
    tally = fuzz(api_url, EXAMPLES)
    print(
        f"schemathesis: {tally.requests} requests, statuses {dict(sorted(tally.statuses.items()))}, "
        f"per operation (requests, seconds): {tally.timings}"
    )
    assert not tally.failures, "\n".join(tally.failures[:20])
    assert tally.requests >= EXAMPLES * 5  # every operation was exercised, not skipped
    assert sum(n for status, n in tally.statuses.items() if status < 300) > 0
