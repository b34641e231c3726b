"""Keep secrets out of the server's own log lines.

docling's client puts its API key in the status socket's query string (``?api_key=...``), and
uvicorn logs every socket's path; this filter masks the value before the line is written.
"""

from __future__ import annotations

import logging
import re

SECRET_QUERY = re.compile(r"((?:api_key|apikey|token)=)[^&\s\"']+", re.IGNORECASE)
UVICORN_LOGGERS = ("uvicorn.error", "uvicorn.access")


def masked(value: object) -> object:
    return SECRET_QUERY.sub(r"\1***", value) if isinstance(value, str) else value


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = masked(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(masked(a) for a in record.args)
        return True


def install() -> None:
    for name in UVICORN_LOGGERS:
        logging.getLogger(name).addFilter(RedactSecrets())
