"""Python client and CLI for the docling-jobs public API."""

from clients.docling_jobs.backoff import ReconnectionManager
from clients.docling_jobs.client import ApiError, Client, JobEvent
from clients.docling_jobs.interpolate import Interpolator
from clients.docling_jobs.live import BACKUP_NOTICE, LiveEvents

__all__ = [
    "BACKUP_NOTICE",
    "ApiError",
    "Client",
    "Interpolator",
    "JobEvent",
    "LiveEvents",
    "ReconnectionManager",
]
