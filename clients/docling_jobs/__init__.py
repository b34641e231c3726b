"""Python SDK and CLI for the docling-jobs API.

>>> from docling_jobs import Client
>>> with Client("http://127.0.0.1:3000") as client:
...     result = client.convert("report.docx")          # a Result: .text, .content, .filename, .save()

``AsyncClient`` offers the same calls with ``await``. Errors are ``DoclingJobsError`` kinds:
``NotFound``, ``RateLimited`` (``retry_after``), ``SessionRequired``, ``ConversionFailed`` (``code``,
``recovery``), ``ServerUnavailable``.
"""

from docling_jobs.aclient import AsyncClient
from docling_jobs.backoff import ReconnectionManager
from docling_jobs.client import Client, WaitTimeout
from docling_jobs.errors import (
    ApiError,
    ConversionFailed,
    DoclingJobsError,
    NotFound,
    RateLimited,
    ServerUnavailable,
    SessionRequired,
)
from docling_jobs.events import JobEvent
from docling_jobs.interpolate import Interpolator
from docling_jobs.live import BACKUP_NOTICE, LiveEvents
from docling_jobs.models import Job, JobError, Result

__all__ = [
    "BACKUP_NOTICE",
    "ApiError",
    "AsyncClient",
    "Client",
    "ConversionFailed",
    "DoclingJobsError",
    "Interpolator",
    "Job",
    "JobError",
    "JobEvent",
    "LiveEvents",
    "NotFound",
    "RateLimited",
    "ReconnectionManager",
    "Result",
    "ServerUnavailable",
    "SessionRequired",
    "WaitTimeout",
]
