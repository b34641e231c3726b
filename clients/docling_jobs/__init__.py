"""Python client and CLI for the docling-jobs public API."""

from clients.docling_jobs.client import ApiError, Client, JobEvent

__all__ = ["ApiError", "Client", "JobEvent"]
