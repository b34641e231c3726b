"""The project's MCP server bounds every conversion: a document past its memory or CPU-time limit
fails alone with its own code, its worker is replaced, and the next document converts.

A server of its own per limit, with a wall-time limit far beyond the others, so a loaded machine cannot turn
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
# Each limit on a server of its own. Growing to the memory limit costs CPU too (writing the pages,
# the kernel's faults: seconds on a busy VM), so the memory case has a CPU budget it cannot reach
# first (and E209 comes from the pool's RSS sample or the worker's address-space backstop); the CPU
# case has the default memory limit, far away.
CASES = {
    "memory": (
        MEMORY,
        "[E209]",
        "more than 1500 MB of memory",
        {"doc_cpu_s": "600", "worker_memory_mb": "1500"},
    ),
    "cpu": (CPU, "[E210]", "more than 2 s of CPU time", {"doc_cpu_s": "2"}),
}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("limits")


@pytest.fixture(scope="module", params=sorted(CASES))
def limited(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, root: Path
) -> Iterator[tuple[str, RunningServer]]:
    """(the limit, a server with one worker that has it)."""
    reason = request.param
    with own_server(
        tmp_path_factory.mktemp(f"limits-{reason}"),
        allowed_roots=str(root),
        workers="1",
        test_faults="1",
        doc_timeout_s="600",
        **CASES[reason][3],
    ) as running:
        yield reason, running


def restarts(server: RunningServer, reason: str) -> float:
    text = server.get("/metrics")[1].decode()
    found = re.search(rf'^mcp_server_worker_restarts_total{{reason="{reason}"}} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_a_document_past_its_limit_fails_alone(limited: tuple[str, RunningServer], root: Path) -> None:
    reason, server = limited
    trigger, code, says, _ = CASES[reason]
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
