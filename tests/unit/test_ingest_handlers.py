"""Ingest driven through its bootstrap with fakes: no broker, no object store, no disk."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pytest

from contracts.envelope import Event
from contracts.events import JobSubmitted, UploadRejected, UploadStored
from runtime.bus import OutcomeTaken
from services.ingest import bootstrap, handlers
from services.ingest.settings import IngestSettings

DOCUMENT = b"# a small document\n"


@dataclass
class FakeStaging:
    objects: dict[str, bytes] = field(default_factory=dict)
    discarded: list[str] = field(default_factory=list)

    async def fetch_into(self, name: str, sink: handlers.Sink) -> bool:
        data = self.objects.get(name)
        if data is None:
            return False
        for start in range(0, len(data), 7):  # in chunks, as the object store hands them out
            sink.write(data[start : start + 7])
        return True

    async def discard(self, name: str) -> None:
        self.discarded.append(name)
        self.objects.pop(name, None)


class FakeIncoming:
    def __init__(self, files: dict[PurePosixPath, bytes], relative: PurePosixPath) -> None:
        self.files, self.relative, self.buffer = files, relative, io.BytesIO()

    def write(self, data: bytes, /) -> int:
        return self.buffer.write(data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.buffer.getvalue()).hexdigest()

    @property
    def size(self) -> int:
        return len(self.buffer.getvalue())

    def keep(self) -> Path:
        self.files.setdefault(self.relative, self.buffer.getvalue())
        return Path("/uploads") / self.relative


@dataclass
class FakeUploads:
    files: dict[PurePosixPath, bytes] = field(default_factory=dict)

    @contextmanager
    def incoming(self, relative: PurePosixPath) -> Iterator[FakeIncoming]:
        yield FakeIncoming(self.files, relative)

    def holding(self, relative: PurePosixPath, sha256: str, size_bytes: int) -> Path | None:
        data = self.files.get(relative)
        if data is None or len(data) != size_bytes or hashlib.sha256(data).hexdigest() != sha256:
            return None
        return Path("/uploads") / relative


@dataclass
class Fakes:
    staging: FakeStaging = field(default_factory=FakeStaging)
    uploads: FakeUploads = field(default_factory=FakeUploads)
    published: list[Event] = field(default_factory=list)
    ended: set[str] = field(default_factory=set)  # jobs whose outcome is already taken

    async def publish(self, event: Event) -> int:
        if event.job_id in self.ended:
            raise OutcomeTaken(event.job_id)
        self.published.append(event)
        return len(self.published)

    async def has_outcome(self, job_id: str) -> bool:
        return job_id in self.ended

    def deps(self, tmp_path: Path) -> handlers.Deps:
        return bootstrap.wire(
            IngestSettings(upload_dir=tmp_path),
            staging=self.staging,
            store=self.uploads,
            publish=self.publish,
            has_outcome=self.has_outcome,
        )


def submitted(data: bytes = DOCUMENT, *, size: int | None = None) -> JobSubmitted:
    return JobSubmitted(
        job_id=str(uuid.uuid4()),
        source="api",
        filename="notes.md",
        content_type="text/markdown",
        size_bytes=len(data) if size is None else size,
        sha256=hashlib.sha256(DOCUMENT).hexdigest(),
        staging_object=f"staged-{uuid.uuid4()}",
        owner="",
    )


async def test_a_staged_upload_is_stored_by_content_and_announced(tmp_path: Path) -> None:
    fakes, event = Fakes(), submitted()
    fakes.staging.objects[event.staging_object] = DOCUMENT
    await handlers.on_job_submitted(event, fakes.deps(tmp_path))
    [stored] = fakes.published
    assert isinstance(stored, UploadStored)
    relative = PurePosixPath(event.sha256[:2]) / f"{event.sha256}.md"
    assert fakes.uploads.files == {relative: DOCUMENT}
    assert (stored.path, stored.sha256, stored.filename) == (f"/uploads/{relative}", event.sha256, "notes.md")
    assert fakes.staging.discarded == [event.staging_object]


@pytest.mark.parametrize("staged", [DOCUMENT + b"tampered", None], ids=["other bytes", "missing"])
async def test_an_upload_that_is_not_what_was_sent_is_rejected(tmp_path: Path, staged: bytes | None) -> None:
    fakes, event = Fakes(), submitted()
    if staged is not None:
        fakes.staging.objects[event.staging_object] = staged
    await handlers.on_job_submitted(event, fakes.deps(tmp_path))
    [rejected] = fakes.published
    assert isinstance(rejected, UploadRejected) and rejected.code == "E107"
    assert fakes.uploads.files == {}


async def test_a_redelivery_after_the_upload_was_stored_announces_it_again(tmp_path: Path) -> None:
    """The first delivery stored the file and dropped the staged copy; its ack was lost."""
    fakes, event = Fakes(), submitted()
    fakes.staging.objects[event.staging_object] = DOCUMENT
    deps = fakes.deps(tmp_path)
    await handlers.on_job_submitted(event, deps)
    await handlers.on_job_submitted(event, deps)  # redelivered: nothing staged any more
    first, again = fakes.published
    assert isinstance(first, UploadStored) and isinstance(again, UploadStored)
    assert (again.event_id, again.path) == (first.event_id, first.path)  # same id: the stream drops it


async def test_a_redelivery_whose_stored_file_differs_is_rejected(tmp_path: Path) -> None:
    fakes, event = Fakes(), submitted()
    fakes.uploads.files[PurePosixPath(event.sha256[:2]) / f"{event.sha256}.md"] = b"other bytes"
    await handlers.on_job_submitted(event, fakes.deps(tmp_path))
    [rejected] = fakes.published
    assert isinstance(rejected, UploadRejected) and rejected.code == "E107"


async def test_a_job_ended_while_queued_only_drops_its_staged_bytes(tmp_path: Path) -> None:
    fakes, event = Fakes(), submitted()
    fakes.staging.objects[event.staging_object] = DOCUMENT
    fakes.ended.add(event.job_id)
    await handlers.on_job_submitted(event, fakes.deps(tmp_path))
    assert fakes.published == [] and fakes.uploads.files == {}
    assert fakes.staging.discarded == [event.staging_object]


async def test_a_message_that_failed_every_delivery_ends_the_job_with_e501(tmp_path: Path) -> None:
    fakes, event = Fakes(), submitted()
    await handlers.give_up(event, fakes.deps(tmp_path))
    [rejected] = fakes.published
    assert isinstance(rejected, UploadRejected) and rejected.code == "E501"


def test_the_real_adapters_need_the_broker(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="broker"):
        bootstrap.wire(IngestSettings(upload_dir=tmp_path))
