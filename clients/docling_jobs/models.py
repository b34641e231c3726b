"""Typed views of what the API answers: a job's state and a conversion's result."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docling_jobs.events import TERMINAL_STATUSES

SUFFIXES = {"markdown": ".md", "html": ".html", "json": ".json"}
FORMATS = tuple(SUFFIXES)


@dataclass(frozen=True)
class JobError:
    code: str
    message: str | None = None
    recovery: str | None = None


@dataclass(frozen=True)
class Job:
    """``GET /api/v1/jobs/{id}``: ``raw`` keeps the whole answer."""

    job_id: str
    status: str
    stage: str = ""
    progress: int = 0
    filename: str | None = None
    formats: tuple[str, ...] = ()
    error: JobError | None = None
    created_at: str | None = None
    updated_at: str | None = None
    last_event_id: int = 0
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> Job:
        error = body.get("error")
        return cls(
            job_id=str(body["job_id"]),
            status=str(body.get("status") or "submitted"),
            stage=str(body.get("stage") or ""),
            progress=int(body.get("progress") or 0),
            filename=body.get("filename"),
            formats=tuple(body.get("formats") or ()),
            error=JobError(str(error.get("code")), error.get("message"), error.get("recovery"))
            if isinstance(error, dict)
            else None,
            created_at=body.get("created_at"),
            updated_at=body.get("updated_at"),
            last_event_id=int(body.get("last_event_id") or 0),
            raw=body,
        )

    @property
    def over(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True)
class Result:
    """A converted document: ``content`` in ``format``; ``filename`` is the name the server gives it
    (the original file's name with the format's suffix)."""

    job_id: str
    format: str
    content: bytes
    filename: str

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.content)

    def save(self, path: str | Path) -> Path:
        target = Path(path)
        target.write_bytes(self.content)
        return target


def result_name(original: str | None, fmt: str) -> str:
    """``report.docx`` as Markdown is ``report.md``; no original name gives ``result.md``."""
    stem = Path(original).stem if original else "result"
    return f"{stem or 'result'}{SUFFIXES[fmt]}"
