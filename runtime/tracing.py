"""OpenTelemetry tracing: one trace per job, carried across services in NATS message headers.

Every service installs the SDK's tracer provider (so trace ids exist and travel, and logs carry
them), but exports only when the standard ``OTEL_*`` variables ask for it: ``OTEL_TRACES_EXPORTER=otlp``,
or an ``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (OTLP over HTTP,
protobuf). A service that does not export samples nothing: its spans still get ids (they travel
in ``traceparent``, unsampled, and appear in logs) but record nothing, which a span per projected
event made worth a fifth of progress's throughput. An exporting service samples as
``OTEL_TRACES_SAMPLER`` says (by default: every root, and whatever its parent sampled), so set the
``OTEL_*`` variables on every service or the traces break where one does not export.
``OTEL_SDK_DISABLED=true`` turns tracing off altogether.

FastStream publishes and consumes through ``NatsTelemetryMiddleware`` (W3C ``traceparent`` in the
message headers, next to ``Nats-Msg-Id`` and the outcome guard's headers). Code that speaks nats-py
directly (the progress projection) extracts the context itself with :func:`message_spans`.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from opentelemetry import trace
from opentelemetry.propagate import extract
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, StatusCode, Tracer

log = logging.getLogger(__name__)
TRACER_NAME = "docling-jobs"


def exporting(env: Mapping[str, str] = os.environ) -> bool:
    """Whether the ``OTEL_*`` variables ask for an OTLP exporter (off when nothing is set)."""
    chosen = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if chosen:
        return "otlp" in chosen.split(",")
    return bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def configure(service: str, env: Mapping[str, str] = os.environ) -> None:
    """Install the tracer provider for ``service`` (once, at start-up, before anything traces)."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return
    exports = exporting(env)
    chosen = provider(service, exports)
    if exports:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        chosen.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        log.info("exporting traces over OTLP/HTTP")
    trace.set_tracer_provider(chosen)


def provider(service: str, exports: bool) -> TracerProvider:
    """The SDK provider, without its exporter: sampling as ``OTEL_TRACES_SAMPLER`` says when the
    service exports, nothing sampled (ids only) when it does not."""
    resource = Resource.create(
        {
            "service.name": service,
            "service.namespace": "docling-jobs",
            "service.instance.id": f"{service}-{os.getpid()}",
        }
    )
    return TracerProvider(resource=resource, sampler=None if exports else ALWAYS_OFF)


@functools.cache
def tracer() -> Tracer:
    """The project's tracer, got once: getting one costs twice what a span does. Got before
    :func:`configure`, it is the API's proxy, which turns to the installed provider when there is one."""
    return trace.get_tracer(TRACER_NAME)


def broker_middleware() -> NatsTelemetryMiddleware:
    """Spans for every FastStream publish and consume; the context rides in the headers."""
    return NatsTelemetryMiddleware()


@contextmanager
def message_spans(operation: str, messages: Iterable[object]) -> Iterator[None]:
    """One consumer span per nats-py message, each continuing the trace its headers carry; all
    end when the block does (an exception marks them all as failed)."""
    spans = []
    for message in messages:
        subject = getattr(message, "subject", "")
        spans.append(
            tracer().start_span(
                f"{subject} {operation}",
                context=extract(getattr(message, "headers", None) or {}),
                kind=SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "nats",
                    "messaging.operation": operation,
                    "messaging.destination.name": subject,
                },
            )
        )
    try:
        yield
    except BaseException as error:
        for span in spans:
            span.record_exception(error)
            span.set_status(StatusCode.ERROR)
        raise
    finally:
        for span in spans:
            span.end()


def current_ids() -> dict[str, str]:
    """``trace_id`` and ``span_id`` of the current span (hex), or nothing outside a trace."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": format(context.trace_id, "032x"), "span_id": format(context.span_id, "016x")}
