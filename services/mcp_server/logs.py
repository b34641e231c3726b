"""JSON log lines on stdout (the same fields as the other services), for the server and its workers.

Kept here rather than imported from `runtime`, which needs packages `.venv-mcp` lacks.
"""

from __future__ import annotations

import json
import logging
import sys
import time

_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_QUIET = (
    "docling",
    "docling_core",
    "docling_parse",
    "httpx",
    "httpx2",
    "uvicorn.access",
    "mcp.server.streamable_http",
    "mcp.server.streamable_http_manager",
)


class _JsonLines(logging.Formatter):
    def __init__(self, fields: dict[str, object]) -> None:
        super().__init__()
        self.fields = fields

    def format(self, record: logging.LogRecord) -> str:
        millis = int(record.msecs)
        line: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{millis:03d}+00:00",
            "level": record.levelname.lower(),
            **self.fields,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update((k, v) for k, v in vars(record).items() if k not in _STANDARD)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(level: str = "INFO", **fields: object) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_JsonLines({"service": "mcp-server", **fields}))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
