"""Structured logs: one JSON object a line, on stdout."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from runtime.tracing import current_ids

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update(current_ids())  # trace_id, span_id inside a trace
        line.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)  # a library's warnings become log lines too, not bare stderr text
    # libraries that bring a handler of their own (FastStream: coloured text on stderr) log through
    # ours instead, so every line of a service's log is one JSON object
    for library in ("faststream", "uvicorn", "uvicorn.error", "uvicorn.access"):
        own = logging.getLogger(library)
        own.handlers[:] = []
        own.propagate = True
    for noisy in ("httpx", "httpx2", "mcp.client.streamable_http"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
