"""The project's MCP server bounds every conversion: a document past its memory or CPU-time limit
fails alone with its own code, its worker is replaced, and the next document converts.

A server of its own, with a wall-time limit far beyond the others, so a loaded machine cannot turn
a memory or CPU overrun into a timeout."""

from __future__ import annotations

import os
import re
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

CONVERT = "convert_document_into_docling_document"
# the test-only triggers of services/mcp_server/adapters/worker.py (MCP_SERVER_TEST_FAULTS=1)
MEMORY = b"DOCLING-JOBS-TEST-FAULT: memory\n"  # grows by 64 MB every 20 ms
CPU = b"DOCLING-JOBS-TEST-FAULT: cpu\n"  # spins
# Growing to the memory limit costs CPU too (writing 1500 MB, and the kernel's page faults: about
# 1 s); and past the limit it goes on growing until the pool's next sample, later on a busy machine.
# 5 s of CPU leaves the memory case room to reach either memory limit first (the pool's RSS sample,
# or the address-space backstop in the worker) however slow the sampling is.
CPU_S = 5


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("limits")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, root: Path) -> Iterator[RunningServer]:
    with own_server(
        tmp_path_factory.mktemp("limits-server"),
        allowed_roots=str(root),
        workers="1",
        test_faults="1",
        doc_timeout_s="600",
        doc_cpu_s=str(CPU_S),
        worker_memory_mb="1500",
    ) as running:
        yield running


def restarts(server: RunningServer, reason: str) -> float:
    text = server.get("/metrics")[1].decode()
    found = re.search(rf'^mcp_server_worker_restarts_total{{reason="{reason}"}} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


@pytest.mark.parametrize(
    ("trigger", "reason", "code", "says"),
    [
        (MEMORY, "memory", "[E209]", "more than 1500 MB of memory"),
        (CPU, "cpu", "[E210]", f"more than {CPU_S} s of CPU time"),
    ],
    ids=["memory", "cpu"],
)
async def test_a_document_past_its_limit_fails_alone(
    trigger: bytes, reason: str, code: str, says: str, server: RunningServer, root: Path
) -> None:
    before = restarts(server, reason)
    hostile = root / f"{reason}.md"
    hostile.write_bytes(trigger + os.urandom(8).hex().encode())
    async with session(server.url) as client:
        refused = await client.call_tool(CONVERT, {"source": str(hostile)})
        after = await markdown_of(client, str(documents.make_markdown(root / f"after-{reason}.md")))
    assert refused.is_error and code in error_text(refused) and says in error_text(refused), error_text(
        refused
    )
    assert after.startswith("# Release notes")  # the server keeps answering, on a new worker
    assert restarts(server, reason) == before + 1
