"""An MCP server worker killed by the kernel's OOM killer: that conversion fails with a clear error, the
worker is replaced, the next conversion succeeds.

The worker is moved into a memory cgroup of its own (cgroup v1 ``memory.limit_in_bytes``, or v2
``memory.max``) with a limit of ``LIMIT_MB``; a test-only document (``DOCLING-JOBS-TEST-FAULT: hog``,
``MCP_SERVER_TEST_FAULTS=1``) makes it allocate until the kernel kills it. Skipped (and reported as
such) where no memory cgroup can be created.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import documents
from tests.integration.mcp_servers import (
    RunningServer,
    error_text,
    markdown_of,
    own_server,
    session,
)
from tests.waiting import wait_for

CONVERT = "convert_document_into_docling_document"
HOG = b"DOCLING-JOBS-TEST-FAULT: hog\n"
LIMIT_MB = 300
V1, V2 = Path("/sys/fs/cgroup/memory"), Path("/sys/fs/cgroup")


class MemoryCgroup:
    """A memory cgroup of its own; the processes put in it go back to the root group at the end."""

    def __init__(self, limit_bytes: int) -> None:
        name = f"docling-jobs-oom-{uuid.uuid4().hex[:8]}"
        self.v1 = (V1 / "memory.limit_in_bytes").exists()
        self.root = V1 if self.v1 else V2
        self.path = self.root / name
        self.path.mkdir()
        limit_file = "memory.limit_in_bytes" if self.v1 else "memory.max"
        (self.path / limit_file).write_text(str(limit_bytes))
        if self.v1:
            (self.path / "memory.memsw.limit_in_bytes").write_text(str(limit_bytes))  # no swapping around it

    def add(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(str(pid))

    def oom_kills(self) -> int:
        source = self.path / ("memory.oom_control" if self.v1 else "memory.events")
        fields = dict(line.split() for line in source.read_text().splitlines())
        return int(fields.get("oom_kill", 0))

    def remove(self) -> None:
        for pid in (self.path / "cgroup.procs").read_text().split():
            try:
                (self.root / "cgroup.procs").write_text(pid)
            except OSError:
                pass  # it has exited meanwhile
        self.path.rmdir()


@pytest.fixture
def cgroup() -> Iterator[MemoryCgroup]:
    try:
        group = MemoryCgroup(LIMIT_MB * 1024 * 1024)
    except OSError as error:
        pytest.skip(f"no memory cgroup can be created here: {error}")
    try:
        yield group
    finally:
        group.remove()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Path]]:
    root = tmp_path_factory.mktemp("oom-root")
    with own_server(
        tmp_path_factory.mktemp("oom-server"), allowed_roots=str(root), workers="1", test_faults="1"
    ) as running:
        yield running, root


def worker_pids(server: RunningServer) -> list[int]:
    status, body = server.get("/health")
    return [int(pid) for pid in json.loads(body)["workers"]["pids"]] if status == 200 else []


async def test_a_worker_killed_by_the_oom_killer_fails_its_document_and_the_next_converts(
    server: tuple[RunningServer, Path], cgroup: MemoryCgroup
) -> None:
    running, root = server
    (victim,) = worker_pids(running)
    cgroup.add(victim)
    hog = root / "hog.md"
    hog.write_bytes(HOG + os.urandom(8).hex().encode())
    async with session(running.url) as client:
        killed = await client.call_tool(CONVERT, {"source": str(hog)})
        assert killed.is_error and "crashed" in error_text(killed), error_text(killed)
        assert cgroup.oom_kills() >= 1, "the kernel's OOM killer did not act"
        replaced = wait_for(lambda: [p for p in worker_pids(running) if p != victim], 120, "a new worker")
        after = await markdown_of(client, str(documents.make_markdown(root / "after-oom.md")))
    assert victim not in replaced and after.startswith("# Release notes")
