"""A full disk under UPLOAD_DIR: ingest cannot store an upload. The job ends once, as rejected with a
code, a message and a recovery action (never stuck), nothing half-written stays behind, and once
space is freed the next upload converts.

The stack's ingest copies are stopped; an ingest of the test's own stores uploads in a 1 MB tmpfs
mounted inside the stack's UPLOAD_DIR (so the MCP server may read from it), filled up by the test.
"""

from __future__ import annotations

import errno
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import Stack
from tests.documents import make_docx
from tests.faults import ServiceProcesses, client, submit, without
from tests.outcomes import audit, settle


@pytest.fixture
def small_disk(stack: Stack) -> Iterator[Path]:
    mountpoint = stack.layout.uploads / f"small-{uuid.uuid4().hex[:8]}"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)], capture_output=True
    )
    if mounted.returncode != 0:
        mountpoint.rmdir()
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)
        mountpoint.rmdir()


def fill(folder: Path) -> Path:
    """Write until the file system refuses (ENOSPC); the filler file."""
    filler = folder / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC, error
    return filler


def test_a_full_upload_disk_rejects_the_job_cleanly_and_freeing_space_recovers(
    stack: Stack, small_disk: Path, tmp_path: Path
) -> None:
    with without(stack, "ingest"):
        ingest = ServiceProcesses(stack.env(), tmp_path)
        try:
            ingest.start("ingest", UPLOAD_DIR=str(small_disk))
            filler = fill(small_disk)
            with client(stack.urls.api) as api:
                refused = submit(api, make_docx(tmp_path / "refused.docx"))
                settle(api, [refused], 90)  # five deliveries, about 40 s apart in all
                job = audit(api, refused)
                state = api.get(f"/api/v1/jobs/{refused}").json()
                assert job.sound and job.status == "rejected", job
                assert (
                    state["error"]["code"] == "E501"
                    and state["error"]["message"]
                    and state["error"]["recovery"]
                )
                leftovers = [p.name for p in small_disk.rglob("*") if p != filler and p.is_file()]
                assert leftovers == [], f"half-written files: {leftovers}"

                filler.unlink()
                accepted = submit(api, make_docx(tmp_path / "accepted.docx"))
                settle(api, [accepted], 60)
                assert audit(api, accepted).status == "succeeded"
        finally:
            ingest.stop_all()
