"""The backup's pure core: manifests, their verification, retention, and what a restore re-publishes.

No I/O here: the adapters measure (sizes, hashes, rows, stream positions) and act; these functions
decide.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from typing import Literal

from pydantic import BaseModel, Field

from contracts.events import JobSubmitted, UploadStored

MANIFEST_VERSION = 1
SET_ID_FORMAT = "%Y%m%dT%H%M%S%fZ"
_CONTENT_NAME = re.compile(r"^(?P<prefix>[0-9a-f]{2})/(?P<sha>[0-9a-f]{64})(?P<ext>\.[A-Za-z0-9]{1,8})?$")


class Part(BaseModel):
    """One file of a set, relative to the set folder (``files/...`` parts to the shared pool)."""

    name: str
    size: int
    sha256: str


class StreamPosition(BaseModel):
    """Where the event log was when the database copy began: every event at or below
    ``archived_through`` is in the copy (progress acknowledges an event only once it is archived)."""

    archived_through: int  # the progress consumer's ack floor (a stream sequence)
    stream_last_seq: int


class Manifest(BaseModel):
    version: int = MANIFEST_VERSION
    set_id: str
    created_at: datetime  # when the database snapshot was taken (UTC)
    finished_at: datetime | None = None
    versions: dict[str, str] = Field(default_factory=dict)  # postgres server, pg_dump, app
    parts: list[Part] = Field(default_factory=list)  # the set's own files
    files: list[Part] = Field(default_factory=list)  # upload files, in the shared pool
    rows: dict[str, int] = Field(default_factory=dict)  # table -> rows in the dump's snapshot
    results_sha256_ok: int = 0  # results rows whose content matched their sha256 at dump time
    max_archived_seq: int = 0
    stream: StreamPosition | None = None
    wal_start: str = ""  # first WAL file the base backup needs (pg_archivecleanup's boundary)
    complete: bool = False

    def with_finish(self, finished_at: datetime) -> Manifest:
        return self.model_copy(update={"finished_at": finished_at, "complete": True})


def new_set_id(now: datetime) -> str:
    return now.strftime(SET_ID_FORMAT)


def set_time(set_id: str) -> datetime:
    return datetime.strptime(set_id, SET_ID_FORMAT).replace(tzinfo=UTC)


# -- upload files ------------------------------------------------------------------------------


def content_sha(relative: str) -> str | None:
    """The sha256 a content-addressed upload's name promises (``ab/ab12….docx``), or None."""
    match = _CONTENT_NAME.match(relative)
    if match is None or not match["sha"].startswith(match["prefix"]):
        return None
    return match["sha"]


def to_copy(current: Iterable[str], in_pool: Iterable[str]) -> list[str]:
    """Upload files not yet in the pool: the only ones a new set copies (incremental)."""
    have = set(in_pool)
    return sorted(name for name in current if name not in have)


# -- verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    size: int
    sha256: str


def check_parts(expected: Sequence[Part], measured: Mapping[str, Measured | None]) -> list[str]:
    """What differs between the manifest and the files as they are now (empty: all good)."""
    problems = []
    for part in expected:
        found = measured.get(part.name)
        if found is None:
            problems.append(f"{part.name}: missing")
        elif found.size != part.size:
            problems.append(f"{part.name}: size {found.size}, manifest says {part.size}")
        elif found.sha256 != part.sha256:
            problems.append(f"{part.name}: sha256 {found.sha256[:12]}…, manifest says {part.sha256[:12]}…")
    return problems


def check_files(files: Sequence[Part]) -> list[str]:
    """Every upload part's sha256 must be the one its content-addressed name promises."""
    return [
        f"{part.name}: content does not match its name"
        for part in files
        if content_sha(part.name.removeprefix("files/")) != part.sha256
    ]


def check_rows(expected: Mapping[str, int], restored: Mapping[str, int]) -> list[str]:
    return [
        f"table {table}: {restored.get(table)} rows restored, manifest says {count}"
        for table, count in expected.items()
        if restored.get(table) != count
    ]


# -- retention ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retention:
    """Database parts live ``db_days``; a set's file list (and the pool files it names)
    ``files_days``. The newest complete set is never removed."""

    db_days: float = 30
    files_days: float = 90


@dataclass(frozen=True)
class RetentionPlan:
    drop_database: list[str]  # set ids whose database parts go (the set's file list stays)
    drop_set: list[str]  # set ids removed entirely
    keep_files: set[str]  # pool files still named by a kept set
    oldest_wal_start: str  # WAL older than this file is no longer needed ("" keeps all)


def plan_retention(sets: Sequence[Manifest], now: datetime, rules: Retention) -> RetentionPlan:
    complete = sorted((m for m in sets if m.complete), key=lambda m: m.created_at)
    newest = complete[-1].set_id if complete else None
    age = {m.set_id: now - m.created_at for m in sets}
    db_limit, files_limit = timedelta(days=rules.db_days), timedelta(days=rules.files_days)
    drop_set = [m.set_id for m in sets if m.set_id != newest and age[m.set_id] > files_limit]
    drop_db = [
        m.set_id for m in sets if m.set_id != newest and m.set_id not in drop_set and age[m.set_id] > db_limit
    ]
    kept = [m for m in sets if m.set_id not in drop_set]
    with_db = [m for m in complete if m.set_id not in drop_set and m.set_id not in drop_db and m.wal_start]
    return RetentionPlan(
        drop_database=drop_db,
        drop_set=drop_set,
        keep_files={p.name for m in kept for p in m.files},
        oldest_wal_start=min((m.wal_start for m in with_db), default=""),
    )


# -- the event log after a restore -------------------------------------------------------------


EventLogAction = Literal["reproject", "rebuild"]


def event_log_action(
    stream_first_seq: int | None, stream_last_seq: int | None, position: StreamPosition | None, until: bool
) -> EventLogAction:
    """Re-project the surviving stream's later events, or rebuild the stream from the archive.

    Rebuild when there is no stream, when it no longer holds the events after the copy (a new
    empty stream, or aged out), and for a point-in-time restore (the stream holds what came after
    the chosen time, which must not come back).
    """
    if until or position is None or stream_first_seq is None or stream_last_seq is None:
        return "rebuild"
    if stream_last_seq < position.stream_last_seq:
        return "rebuild"  # shorter than when the copy was taken: not that stream
    if stream_first_seq > position.archived_through + 1 and stream_last_seq > position.archived_through:
        return "rebuild"  # the events right after the copy have aged out
    return "reproject"


@dataclass(frozen=True)
class ArchivedEvent:
    seq: int
    job_id: str
    job_seq: int
    event_id: str
    event_type: str
    terminal: bool
    envelope: str  # JSON


def to_republish(events: Iterable[ArchivedEvent]) -> list[ArchivedEvent]:
    """What a rebuilt stream needs, in archive order: the terminal event of an ended job (the
    outcome subject then guards it: no second terminal event can be stored), and every event of a
    job still in flight so its consumers resume it, except ``JobSubmitted`` once ``UploadStored``
    is there (ingest's work is done; its staged bytes went with the old stream)."""
    by_job: dict[str, list[ArchivedEvent]] = {}
    for event in events:
        by_job.setdefault(event.job_id, []).append(event)
    chosen: list[ArchivedEvent] = []
    for job_events in by_job.values():
        ended = [e for e in job_events if e.terminal]
        stored = any(e.event_type == UploadStored.event_type for e in job_events)
        chosen.extend(
            ended[:1]
            if ended
            else [e for e in job_events if not (stored and e.event_type == JobSubmitted.event_type)]
        )
    return sorted(chosen, key=lambda e: e.seq)


def republished_start(max_archived_seq: int) -> int:
    """The rebuilt stream's first sequence: above every archived one, so new events never reuse
    a sequence the archive already holds."""
    return max_archived_seq + 1


def tool_for(server_version_num: int, candidates: Mapping[str, int]) -> str | None:
    """The first tool (path -> its major version) whose major matches the server's."""
    major = server_version_num // 10000
    return next((path for path, tool_major in candidates.items() if tool_major == major), None)


def safe_relative(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and bool(path.parts)
