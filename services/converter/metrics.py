"""The converter's own Prometheus metrics (names spelled here; docs/monitoring.md lists them)."""

from __future__ import annotations

import time

from prometheus_client import Histogram

STAGE_SECONDS = Histogram(
    "docling_conversion_stage_seconds",
    "Time a conversion stage took (converting, exporting_*)",
    ["stage"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)


def stage_done(stage: str, started: float) -> float:
    """Record a finished stage that began at ``started`` (monotonic); returns now, the next start."""
    now = time.monotonic()
    STAGE_SECONDS.labels(stage).observe(now - started)
    return now
