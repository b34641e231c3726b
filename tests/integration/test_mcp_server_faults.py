"""The project's MCP server: PDFs without models, crashing and hanging documents, allowed roots, health,
its shared secret and each client's own cache."""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import documents
from tests.integration.mcp_servers import (
    OTHER_TOKEN,
    TOKEN,
    RunningServer,
    error_text,
    markdown_of,
    own_server,
    session,
)
from tests.waiting import wait_for, wait_for_async

CONVERT = "convert_document_into_docling_document"
# the test-only triggers of services/mcp_server/adapters/worker.py (MCP_SERVER_TEST_FAULTS=1)
CRASH = b"DOCLING-JOBS-TEST-FAULT: crash\n"
HANG = b"DOCLING-JOBS-TEST-FAULT: hang\n"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("allowed")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, root: Path) -> Iterator[RunningServer]:
    with own_server(
        tmp_path_factory.mktemp("own-server"),
        allowed_roots=str(root),
        workers="2",
        test_faults="1",
        doc_timeout_s="6",
        worker_max_docs="5",
        max_file_size_mb="1",
        allow_urls="1",
        url_allowed_networks="127.0.0.1/32",  # the test's web server stands for an internal file server
    ) as running:
        yield running


def _fault_file(path: Path, trigger: bytes) -> Path:
    path.write_bytes(trigger + os.urandom(8).hex().encode())
    return path


def _metric(server: RunningServer, name: str, labels: str = "") -> float:
    text = server.get("/metrics")[1].decode()
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def test_text_pdf_converts_without_layout_models(server: RunningServer, root: Path) -> None:
    path = documents.make_pdf(root / "text.pdf")
    steps: list[tuple[float, str]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        steps.append((progress, message or ""))

    async with session(server.url) as client:
        converted = await client.call_tool(CONVERT, {"source": str(path)}, progress_callback=on_progress)
        assert not converted.is_error, error_text(converted)
        key = converted.structured_content["document_key"]
        markdown = await client.call_tool("export_docling_document_to_markdown", {"document_key": key})
    assert converted.structured_content["pipeline"] == "native"
    assert "Hello PDF" in markdown.structured_content["markdown"]
    assert [p for p, _ in steps] == sorted({p for p, _ in steps}) and steps[-1][0] == 100.0
    assert "page 1 of 1" in [message for _, message in steps]


async def test_a_scanned_pdf_is_read_by_ocr(server: RunningServer, root: Path) -> None:
    """No text layer: tesseract (Debian's tesseract-ocr) reads the page; no model is downloaded."""
    path = documents.make_scanned_pdf(root / "scan.pdf")
    async with session(server.url) as client:
        converted = await client.call_tool(CONVERT, {"source": str(path)})
        assert not converted.is_error, error_text(converted)
        key = converted.structured_content["document_key"]
        markdown = await client.call_tool("export_docling_document_to_markdown", {"document_key": key})
    assert "Scanned page" in markdown.structured_content["markdown"]


@pytest.mark.parametrize(
    "maker, reason",
    [
        (documents.make_corrupt_pdf, "conversion failed"),
        (documents.make_corrupt_docx, "conversion failed"),
    ],
)
async def test_unreadable_documents_fail_with_a_tool_error(
    server: RunningServer, root: Path, maker, reason: str
) -> None:
    path = maker(root / f"bad-{maker.__name__}.{maker.__name__.rsplit('_', 1)[-1]}")
    async with session(server.url) as client:
        result = await client.call_tool(CONVERT, {"source": str(path)})
    assert result.is_error and reason in error_text(result)


async def test_crashing_document_fails_alone(server: RunningServer, root: Path) -> None:
    restarts = _metric(server, "mcp_server_worker_restarts_total", '{reason="crash"}')
    async with session(server.url) as client:
        crashed = await client.call_tool(CONVERT, {"source": str(_fault_file(root / "crash.md", CRASH))})
        after = await markdown_of(client, str(documents.make_markdown(root / "after-crash.md")))
    assert crashed.is_error and "crashed" in error_text(crashed)
    assert after.startswith("# Release notes")
    assert _metric(server, "mcp_server_worker_restarts_total", '{reason="crash"}') == restarts + 1


def workers_ready(server: RunningServer) -> int:
    body = server.get("/health")[1]
    return json.loads(body)["workers"]["ready"] if body else 0


async def test_hanging_document_times_out_while_others_convert(server: RunningServer, root: Path) -> None:
    # both workers up first: the one the crash test killed may still be warming docling up (minutes,
    # loaded), and the other document would then wait for the hanging one's worker
    await wait_for_async(lambda: workers_ready(server) == 2, 600, "both workers ready", every=0.5)
    async with session(server.url) as hanging_client, session(server.url) as other_client:
        hanging = asyncio.create_task(
            hanging_client.call_tool(CONVERT, {"source": str(_fault_file(root / "hang.md", HANG))})
        )
        hung_meanwhile = []  # after each of the other worker's conversions: still hanging?
        for index in range(3):
            await markdown_of(other_client, str(documents.make_docx(root / f"meanwhile-{index}.docx")))
            hung_meanwhile.append(not hanging.done())
        result = await asyncio.wait_for(hanging, 30)
    # the first conversion (a second or so, loaded) ended well within the hanging one's 6 s
    assert hung_meanwhile[0], "the other worker did not convert while one document hung"
    assert result.is_error and "longer than 6 s" in error_text(result)
    status, body = server.get("/health")
    assert status == 200 and json.loads(body)["status"] == "ok"


async def test_workers_are_recycled_after_max_docs(server: RunningServer, root: Path) -> None:
    recycled = _metric(server, "mcp_server_worker_restarts_total", '{reason="recycle"}')
    async with session(server.url) as client:
        for index in range(12):  # 2 workers x 5 documents each, and more
            await markdown_of(client, str(documents.make_html(root / f"recycle-{index}.html")))
    assert _metric(server, "mcp_server_worker_restarts_total", '{reason="recycle"}') >= recycled + 1


async def test_paths_outside_the_allowed_roots_are_refused(
    server: RunningServer, root: Path, tmp_path: Path
) -> None:
    outside = documents.make_markdown(tmp_path / "outside.md")
    (root / "link.md").symlink_to(outside)
    (root / "sub").mkdir()
    refused = [
        str(outside),
        f"{root}/sub/../../{tmp_path.name}/outside.md",
        str(root / "link.md"),
        f"file://{outside}",
        "/etc/passwd",
        "ftp://example.com/a.pdf",
    ]
    async with session(server.url) as client:
        for source in refused:
            result = await client.call_tool(CONVERT, {"source": source})
            assert result.is_error, source
        inside = await markdown_of(client, f"{root}/sub/../{documents.make_markdown(root / 'in.md').name}")
    assert inside.startswith("# Release notes")


async def test_too_large_a_file_is_refused(server: RunningServer, root: Path) -> None:
    path = root / "big.md"
    path.write_text("# big\n\n" + "x" * (1024 * 1024 + 1))
    async with session(server.url) as client:
        result = await client.call_tool(CONVERT, {"source": str(path)})
    assert result.is_error and "larger than 1 MB" in error_text(result)


def test_health_and_metrics(server: RunningServer) -> None:
    def ok() -> dict | None:  # after the crash/hang tests a worker may still be restarting
        status, body = server.get("/health")
        report = json.loads(body)
        assert status == 200 or report["status"] == "starting", (status, report)
        return report if status == 200 else None

    health = wait_for(ok, 60, "the server's health to be ok", every=0.2)
    assert health["status"] == "ok"
    assert health["workers"]["configured"] == 2 and health["workers"]["pdf_pipeline"] == "native"
    status, body = server.get("/metrics")
    assert status == 200 and b"mcp_server_tool_calls_total" in body


@pytest.fixture
def web(root: Path) -> Iterator[str]:
    """A plain HTTP server on a free port, serving the allowed folder (as ingest's signed URLs would)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


async def test_urls_are_downloaded_and_keyed_by_content(server: RunningServer, root: Path, web: str) -> None:
    path = documents.make_docx(root / "by-url.docx")
    async with session(server.url) as client:
        by_url = await client.call_tool(CONVERT, {"source": f"{web}/by-url.docx?signature=abc"})
        by_path = await client.call_tool(CONVERT, {"source": str(path)})
        missing = await client.call_tool(CONVERT, {"source": f"{web}/missing.docx"})
    assert not by_url.is_error, error_text(by_url)
    assert by_path.structured_content == {**by_url.structured_content, "from_cache": True}
    assert missing.is_error and "HTTP 404" in error_text(missing)


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}


def initialize_status(server: RunningServer, authorization: str | None) -> int:
    headers = {"Accept": "application/json, text/event-stream"}
    if authorization is not None:
        headers["Authorization"] = authorization
    return httpx.post(server.url, json=INITIALIZE, headers=headers, timeout=30).status_code


def test_the_mcp_endpoint_needs_the_shared_secret(server: RunningServer) -> None:
    refused = [None, "Bearer wrong-secret", f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x"]
    assert [initialize_status(server, header) for header in refused] == [401] * len(refused)
    assert initialize_status(server, f"Bearer {TOKEN}") == 200
    assert initialize_status(server, f"Bearer {OTHER_TOKEN}") == 200
    assert server.get("/health")[0] in (200, 503)  # health and metrics stay open (no document data)


async def test_a_client_sees_only_its_own_cached_documents(server: RunningServer, root: Path) -> None:
    path = root / f"mine-{os.urandom(4).hex()}.md"
    path.write_text(f"# Private {path.stem}\n\nOnly mine.\n")
    async with session(server.url) as mine:
        converted = await mine.call_tool(CONVERT, {"source": str(path)})
        assert not converted.is_error, error_text(converted)
    key = converted.structured_content["document_key"]
    async with session(server.url, OTHER_TOKEN) as other:
        listed = await other.call_tool("list_cached_documents", {})
        exported = await other.call_tool("export_docling_document_to_markdown", {"document_key": key})
        saved = await other.call_tool("save_docling_document", {"document_key": key})
        held = await other.call_tool("check_document_in_local_cache", {"document_key": key})
        evicted = await other.call_tool("remove_document_from_local_cache", {"document_key": key})
        again = await other.call_tool(CONVERT, {"source": str(path)})  # its own conversion, not mine
    assert key not in listed.structured_content["document_keys"]
    assert exported.is_error and "not found" in error_text(exported)
    assert saved.is_error and "not found" in error_text(saved)
    assert held.structured_content == {"in_cache": False} and evicted.structured_content == {"dropped": False}
    assert again.structured_content["from_cache"] is False
    async with session(server.url) as mine:
        still = await mine.call_tool("export_docling_document_to_markdown", {"document_key": key})
        mine_listed = await mine.call_tool("list_cached_documents", {})
    assert not still.is_error and still.structured_content["markdown"].startswith("# Private")
    assert key in mine_listed.structured_content["document_keys"]
