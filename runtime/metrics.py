"""Prometheus metrics every service shares; metric names are spelled here (docs/monitoring.md lists them).

Everything registers in prometheus_client's default registry, which each service exposes at its
``/metrics`` (the API at ``/api/v1/metrics``), so a metric another module creates there (e.g. the
API's rate-limit counter) is exposed without further wiring.
"""

from __future__ import annotations

from faststream.nats.prometheus.provider import NatsMetricsSettingsProvider, settings_provider_factory
from faststream.prometheus.middleware import PrometheusMiddleware
from nats.aio.msg import Msg
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, generate_latest

from contracts.envelope import Event
from contracts.subjects import SUBJECT_PREFIX

JOB_OUTCOMES = Counter(
    "docling_job_outcomes_total",
    "Terminal events this process stored, by outcome (event type) and error code ('' on success)",
    ["outcome", "code"],
)


def subject_pattern(subject: str) -> str:
    """``jobs.<job_id>.<Type>`` as ``jobs.*.<Type>``: a label must not take a value per job."""
    parts = subject.split(".")
    if len(parts) == 3 and parts[0] == SUBJECT_PREFIX:
        parts[1] = "*"
    return ".".join(parts)


class _JobSubjects(NatsMetricsSettingsProvider):
    """FastStream's NATS metrics settings, with job subjects reduced to their pattern."""

    def get_consume_attrs_from_message(self, msg):
        attrs = super().get_consume_attrs_from_message(msg)
        attrs["destination_name"] = subject_pattern(attrs["destination_name"])
        return attrs

    def get_publish_destination_name_from_cmd(self, cmd) -> str:
        return subject_pattern(super().get_publish_destination_name_from_cmd(cmd))


def _settings(msg: object) -> object:
    return _JobSubjects() if msg is None or isinstance(msg, Msg) else settings_provider_factory(msg)


def broker_middleware() -> PrometheusMiddleware:
    """FastStream's message metrics (``faststream_received_messages_total``, ...) per subject
    pattern (what ``NatsPrometheusMiddleware`` does, without a label value per job)."""
    return PrometheusMiddleware(
        settings_provider_factory=_settings, registry=REGISTRY, app_name="docling-jobs"
    )


def count_outcome(event: Event) -> None:
    """Count a terminal event once it is stored (not a duplicate)."""
    if event.terminal:
        JOB_OUTCOMES.labels(event.event_type, getattr(event, "code", "") or "").inc()


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
