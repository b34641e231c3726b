"""Prometheus metrics of the MCP server: every name is spelled here once, on a registry of its own."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

REGISTRY = CollectorRegistry(auto_describe=True)

TOOL_CALLS = Counter(
    "mcp_server_tool_calls_total",
    "MCP tool calls by tool and outcome",
    ["tool", "outcome"],
    registry=REGISTRY,
)
CONVERSIONS = Counter(
    "mcp_server_conversions_total",
    "Conversions run on a worker, by outcome (ok, failed, crash, timeout) and pipeline",
    ["outcome", "pipeline"],
    registry=REGISTRY,
)
CONVERSION_SECONDS = Histogram(
    "mcp_server_conversion_seconds",
    "Time from source received to document cached",
    ["pipeline"],
    registry=REGISTRY,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
CACHE_HITS = Counter(
    "mcp_server_cache_hits_total", "Conversions answered from the document cache", registry=REGISTRY
)
CACHE_DOCUMENTS = Gauge("mcp_server_cache_documents", "Documents in the cache", registry=REGISTRY)
CACHE_BYTES = Gauge("mcp_server_cache_bytes", "Bytes of exports held in the cache", registry=REGISTRY)
QUEUE_DEPTH = Gauge("mcp_server_queue_depth", "Conversions waiting for a worker", registry=REGISTRY)
WORKERS_READY = Gauge("mcp_server_workers_ready", "Worker processes ready to convert", registry=REGISTRY)
WORKER_RESTARTS = Counter(
    "mcp_server_worker_restarts_total",
    "Workers replaced, by reason (crash, timeout, recycle)",
    ["reason"],
    registry=REGISTRY,
)
WORKER_RSS = Gauge(
    "mcp_server_worker_rss_bytes",
    "Resident memory of each worker after its last document",
    ["slot"],
    registry=REGISTRY,
)


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
