"""Rate limits for test and benchmark stacks, which drive the API hard from one address and one
session. The limits themselves are proved by tests/integration/test_edge_stack.py, on a stack of
its own with small limits."""

from __future__ import annotations

import os
from collections.abc import MutableMapping

from services.api.settings import RATE_LIMIT_DEFAULTS

GENEROUS = "1000000/60"


def lift_rate_limits(environ: MutableMapping[str, str] = os.environ) -> None:
    """Set every ``API_RATE_LIMIT_<ENDPOINT>`` to a limit no test or benchmark reaches."""
    for endpoint in RATE_LIMIT_DEFAULTS:
        environ[f"API_RATE_LIMIT_{endpoint.upper()}"] = GENEROUS
    # the suite follows many jobs of one session at once (test_live_progress: 10, reconnecting
    # through cuts); the stream caps themselves are proved on the edge stack
    environ["API_SSE_MAX_STREAMS_PER_SESSION"] = "100000"


def lift_owner_limits(environ: MutableMapping[str, str] = os.environ) -> None:
    """No per-owner share or queue cap: the suite submits most of its jobs in one session, at once
    (the degraded-mode test's three jobs all wait for the circuit, not for their owner); fair
    sharing itself is proved by tests/integration/test_fair_sharing.py on a stack of its own."""
    environ["CONVERTER_OWNER_MAX_ACTIVE"] = "100000"
    environ["API_OWNER_MAX_QUEUED"] = "0"
