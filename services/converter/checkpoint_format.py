"""Conversion checkpoints: the versioned document, its size rule and its migrations. Pure code.

A checkpoint records the last finished stage of a job and the outputs made so far, so another
converter copy (after a crash) or a later attempt (after the MCP server failed) continues from there
instead of starting over. The serialized checkpoint is at most ``MAX_BYTES``; a partial result that
would not fit is stored beside it (``checkpoint_parts``) and the checkpoint keeps a reference.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from contracts.formats import STORED_FORMATS
from services.converter.domain import EXPORT_STAGES

VERSION = 1
MAX_BYTES = 1024 * 1024
INLINE_LIMIT = 256 * 1024  # a partial result larger than this goes beside the checkpoint
FORMATS = STORED_FORMATS
STAGES = ("started", "converting", *EXPORT_STAGES.values())  # the last stage a checkpoint records


class CheckpointTooLarge(ValueError):
    """Even with every partial result stored beside it, the checkpoint exceeds ``MAX_BYTES``."""


class UnknownVersion(ValueError):
    """A checkpoint written by a newer build: this one cannot read it."""


@dataclass(frozen=True)
class Checkpoint:
    """Version 1. ``stage`` is the last finished stage; ``partial`` holds finished outputs."""

    stage: str
    progress: int
    started_at: int  # ms since the epoch
    last_updated_at: int
    partial: dict[str, str | None] = field(default_factory=lambda: dict.fromkeys(FORMATS))
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(cls, now_ms: int, file_hash: str, request_id: str) -> Checkpoint:
        return cls(
            "started",
            0,
            now_ms,
            now_ms,
            metadata={"mcpRequestId": request_id, "fileHash": file_hash, "documentKey": None},
        )

    @property
    def document_key(self) -> str | None:
        return self.metadata.get("documentKey")

    def converted(self, key: str, progress: int, now_ms: int) -> Checkpoint:
        return replace(
            self,
            stage="converting",
            progress=progress,
            last_updated_at=now_ms,
            metadata={**self.metadata, "documentKey": key},
        )

    def exported(self, stage: str, fmt: str, text: str, progress: int, now_ms: int) -> Checkpoint:
        return replace(
            self, stage=stage, progress=progress, last_updated_at=now_ms, partial={**self.partial, fmt: text}
        )

    def reconverted(self, key: str) -> Checkpoint:
        """The server lost the document (it restarted): the new key, the exports already made kept."""
        return replace(self, metadata={**self.metadata, "documentKey": key})


@dataclass(frozen=True)
class Part:
    """A partial result stored beside the checkpoint."""

    fmt: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def reference(self) -> dict:
        return {"storedBeside": True, "sha256": self.sha256, "sizeBytes": len(self.text.encode())}


def encode(checkpoint: Checkpoint) -> tuple[str, list[Part]]:
    """The JSON text (at most ``MAX_BYTES``) and the partial results stored beside it."""
    inline: dict[str, str | dict | None] = {}
    beside: list[Part] = []
    for fmt in FORMATS:
        text = checkpoint.partial.get(fmt)
        if text is not None and len(text.encode()) > INLINE_LIMIT:
            beside.append(Part(fmt, text))
            inline[fmt] = beside[-1].reference()
        else:
            inline[fmt] = text
    document = {
        "version": VERSION,
        "stage": checkpoint.stage,
        "progress": checkpoint.progress,
        "startedAt": checkpoint.started_at,
        "lastUpdatedAt": checkpoint.last_updated_at,
        "partialResults": inline,
        "metadata": checkpoint.metadata,
    }
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    size = len(text.encode())
    if size > MAX_BYTES:
        raise CheckpointTooLarge(f"checkpoint is {size} bytes; the limit is {MAX_BYTES}")
    return text, beside


def decode(text: str, parts: dict[str, str]) -> Checkpoint:
    """Read a stored checkpoint of any known version (migrated to the current one).

    ``parts`` are the results stored beside it, by format. A referenced part that is missing or
    whose hash does not match is dropped: that stage is simply done again.
    """
    document = migrate(json.loads(text))
    _validate(document)
    partial: dict[str, str | None] = {}
    for fmt in FORMATS:
        value = document["partialResults"].get(fmt)
        if isinstance(value, dict):
            stored = parts.get(fmt)
            ok = stored is not None and hashlib.sha256(stored.encode()).hexdigest() == value.get("sha256")
            value = stored if ok else None
        partial[fmt] = value
    return Checkpoint(
        document["stage"],
        document["progress"],
        document["startedAt"],
        document["lastUpdatedAt"],
        partial,
        dict(document.get("metadata") or {}),
    )


def _validate(document: dict) -> None:
    problems = []
    if document.get("stage") not in STAGES:
        problems.append(f"stage {document.get('stage')!r}")
    progress = document.get("progress")
    if not isinstance(progress, int) or not 0 <= progress <= 100:
        problems.append(f"progress {progress!r}")
    for name in ("startedAt", "lastUpdatedAt"):
        if not isinstance(document.get(name), int):
            problems.append(name)
    if not isinstance(document.get("partialResults", {}), dict):
        problems.append("partialResults")
    if problems:
        raise ValueError("invalid checkpoint: " + ", ".join(problems))
    document.setdefault("partialResults", {})


# -- migrations: version n -> n + 1 ----------------------------------------------------------


def _v0_to_v1(old: dict) -> dict:
    """Version 0 (the draft before versioning) had no ``version`` field: ``stage``/``percent``,
    timestamps in seconds (``started``/``updated``), outputs and ids at the top level."""
    now_ms = int(old.get("updated", old.get("started", 0)) * 1000)
    return {
        "version": 1,
        "stage": {"conversion": "converting", "markdown": "exporting_markdown"}.get(
            old["stage"], old["stage"]
        ),
        "progress": int(old.get("percent", 0)),
        "startedAt": int(old.get("started", 0) * 1000),
        "lastUpdatedAt": now_ms,
        "partialResults": {fmt: old.get(fmt) for fmt in FORMATS},
        "metadata": {
            "mcpRequestId": old.get("requestId"),
            "fileHash": old.get("fileHash"),
            "documentKey": old.get("documentKey"),
        },
    }


MIGRATIONS: dict[int, Callable[[dict], dict]] = {0: _v0_to_v1}


def migrate(document: dict) -> dict:
    """Bring a checkpoint of any earlier version to ``VERSION``, one step at a time."""
    version = document.get("version", 0)
    if not isinstance(version, int) or version > VERSION:
        raise UnknownVersion(f"checkpoint version {version!r}; this build reads up to {VERSION}")
    while version < VERSION:
        document = MIGRATIONS[version](document)
        version = document["version"]
    return document
