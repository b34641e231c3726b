"""Prometheus metrics every service shares; metric names are spelled here (CLAUDE.md lists them).

Everything registers in prometheus_client's default registry, which each service exposes at its
``/metrics`` (the API at ``/api/v1/metrics``), so a metric another module creates there (e.g. the
API's rate-limit counter) is exposed without further wiring.
"""

from __future__ import annotations

from faststream.nats.prometheus import NatsPrometheusMiddleware
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, generate_latest

from contracts.envelope import Event

JOB_OUTCOMES = Counter(
    "docling_job_outcomes_total",
    "Terminal events this process stored, by outcome (event type) and error code ('' on success)",
    ["outcome", "code"],
)


def broker_middleware() -> NatsPrometheusMiddleware:
    """FastStream's message metrics (``faststream_received_messages_total``, ...) per subject."""
    return NatsPrometheusMiddleware(registry=REGISTRY, app_name="docling-jobs")


def count_outcome(event: Event) -> None:
    """Count a terminal event once it is stored (not a duplicate)."""
    if event.terminal:
        JOB_OUTCOMES.labels(event.event_type, getattr(event, "code", "") or "").inc()


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
