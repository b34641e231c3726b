"""The project's MCP server answers the official docling-mcp's calls with the same shapes and Markdown."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import documents
from tests.integration.mcp_servers import (
    RunningServer,
    error_text,
    launch_official,
    launch_own,
    markdown_of,
    official_ready,
    own_ready,
    session,
)

FORMATS = {**documents.MAKERS, "csv": documents.make_csv}


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("compat-docs")


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, docs: Path
) -> Iterator[tuple[RunningServer, RunningServer]]:
    folder = tmp_path_factory.mktemp("compat-servers")
    own = launch_own(folder, allowed_roots=str(docs), workers="2")
    official = launch_official(folder)  # both import docling at once
    try:
        own.wait_ready(own_ready(own))
        official.wait_ready(official_ready(official))
        yield own, official
    finally:
        own.stop()
        official.stop()


@pytest.mark.parametrize("kind", sorted(FORMATS))
async def test_same_markdown_as_the_official_server(servers, docs: Path, kind: str) -> None:
    own, official = servers
    path = FORMATS[kind](docs / f"sample.{kind}")
    async with session(official.url) as client:
        expected = await markdown_of(client, str(path))
    async with session(own.url) as client:
        actual = await markdown_of(client, str(path))
    assert actual == expected
    assert actual.strip()


async def test_tool_names_and_result_shapes_match(servers, docs: Path) -> None:
    own, official = servers
    path = documents.make_docx(docs / "shapes.docx")
    shapes = []
    for server in (own, official):
        async with session(server.url) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            first = await client.call_tool("convert_document_into_docling_document", {"source": str(path)})
            again = await client.call_tool("convert_document_into_docling_document", {"source": str(path)})
            key = first.structured_content["document_key"]
            saved = await client.call_tool("save_docling_document", {"document_key": key})
            cached = await client.call_tool("check_document_in_local_cache", {"document_key": key})
            dropped = await client.call_tool("remove_document_from_local_cache", {"document_key": key})
            missing = await client.call_tool("export_docling_document_to_markdown", {"document_key": key})
        shapes.append((names, first, again, saved, cached, dropped, missing))
    (own_names, *own_results), (official_names, *official_results) = shapes
    assert {
        "convert_document_into_docling_document",
        "export_docling_document_to_markdown",
        "save_docling_document",
        "check_document_in_local_cache",
        "remove_document_from_local_cache",
    } <= own_names & official_names
    for mine, theirs in zip(own_results, official_results, strict=False):
        assert mine.is_error == theirs.is_error
        if not theirs.is_error:
            assert set(theirs.structured_content) <= set(mine.structured_content)
    first, again, saved, *_ = own_results
    assert (first.structured_content["from_cache"], again.structured_content["from_cache"]) == (False, True)
    assert first.structured_content["pipeline"] == "simple"
    assert Path(saved.structured_content["json_file"]).is_file()


async def test_html_and_json_come_back_as_content(servers, docs: Path) -> None:
    own, _ = servers
    path = documents.make_html(docs / "content.html")
    async with session(own.url) as client:
        converted = await client.call_tool("convert_document_into_docling_document", {"source": str(path)})
        key = converted.structured_content["document_key"]
        html = await client.call_tool("export_docling_document_to_html", {"document_key": key})
        as_json = await client.call_tool("export_docling_document_to_json", {"document_key": key})
    assert not html.is_error and not as_json.is_error, error_text(html) + error_text(as_json)
    assert "<h1>Meeting" in html.structured_content["html"]
    assert json.loads(as_json.structured_content["json"])["schema_name"] == "DoclingDocument"
