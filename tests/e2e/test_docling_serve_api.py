"""docling-serve's v1 routes over plain HTTP: keys and owners, targets, formats, chunking, refusals."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from io import BytesIO
from pathlib import Path

import httpx
import pytest

from tests.documents import make_docx, make_markdown, make_sectioned_docx
from tests.e2e.helpers import direct_json, mcp_token
from tests.servers import OWN

KEY_HEADER = "X-Api-Key"


def keys(stack_env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "services.api.keys", *args],
        env={**os.environ, **stack_env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def api_key(stack_env: dict[str, str]) -> str:
    made = keys(stack_env, "create", "e2e program", "--limit", "submit=500/60")
    assert made.returncode == 0, made.stderr
    return json.loads(made.stdout)["key"]


def convert(
    api_url: str, token: str, path: Path, route: str = "/v1/convert/file", **fields
) -> httpx.Response:
    with path.open("rb") as handle:
        return httpx.post(
            f"{api_url}{route}",
            files=[("files", (path.name, handle))],
            data=fields,
            headers={KEY_HEADER: token},
            timeout=120,
        )


def test_a_key_converts_synchronously_in_every_format(api_url: str, api_key: str, tmp_path: Path) -> None:
    formats = ["md", "json", "html", "text", "doctags"]
    answer = convert(api_url, api_key, make_docx(tmp_path / "report.docx"), to_formats=formats)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "success" and body["document"]["filename"] == "report.docx"
    document = body["document"]
    assert document["md_content"].startswith("## Quarterly report")
    assert document["json_content"]["schema_name"] == "DoclingDocument"
    assert "<html" in document["html_content"] and "Quarterly report" in document["text_content"]
    assert "<doctag>" in document["doctags_content"]


def test_a_key_sees_only_its_own_tasks_and_jobs(
    api_url: str, api_key: str, session_token: str, tmp_path: Path
) -> None:
    submitted = convert(api_url, api_key, make_markdown(tmp_path / "mine.md"), "/v1/convert/file/async")
    assert submitted.status_code == 200, submitted.text
    task_id = submitted.json()["task_id"]
    polled = httpx.get(
        f"{api_url}/v1/status/poll/{task_id}", params={"wait": 60}, headers={KEY_HEADER: api_key}, timeout=90
    )
    assert polled.json()["task_status"] == "success", polled.text  # the long poll ends with the job
    stranger = httpx.get(f"{api_url}/v1/result/{task_id}", headers={KEY_HEADER: session_token}, timeout=30)
    assert stranger.status_code == 404 and stranger.json()["detail"] == "Task not found."
    own_jobs = httpx.get(f"{api_url}/api/v1/jobs", headers={"Authorization": f"Bearer {api_key}"}, timeout=30)
    session_jobs = httpx.get(f"{api_url}/api/v1/jobs", headers={"Authorization": f"Bearer {session_token}"})
    assert "mine.md" in [j["filename"] for j in own_jobs.json()["jobs"]]
    assert "mine.md" not in [j["filename"] for j in session_jobs.json()["jobs"]]


def test_a_task_produces_only_the_formats_it_asks_for(api_url: str, api_key: str, tmp_path: Path) -> None:
    answer = convert(api_url, api_key, make_docx(tmp_path / "only-md.docx"), to_formats=["md"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["document"]["md_content"].startswith("## Quarterly report")
    bearer = {"Authorization": f"Bearer {api_key}"}
    jobs = httpx.get(f"{api_url}/api/v1/jobs", headers=bearer, timeout=30).json()["jobs"]
    job = next(j for j in jobs if j["filename"] == "only-md.docx")
    assert job["status"] == "succeeded" and job["formats"] == ["markdown"]
    assert list(job["links"]["result"]) == ["markdown"]
    result = f"{api_url}/api/v1/jobs/{job['job_id']}/result"
    markdown = httpx.get(result, params={"format": "markdown"}, headers=bearer, timeout=30)
    assert markdown.status_code == 200 and markdown.text.startswith("## Quarterly report")
    for fmt in ("html", "json", "text"):  # never converted: not stored, not derivable
        refused = httpx.get(result, params={"format": fmt}, headers=bearer, timeout=30)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "E116"


def test_a_revoked_or_unknown_key_is_refused(api_url: str, stack_env: dict[str, str], tmp_path: Path) -> None:
    made = json.loads(keys(stack_env, "create", "short-lived").stdout)
    assert keys(stack_env, "revoke", made["key_id"]).returncode == 0
    listed = [json.loads(line) for line in keys(stack_env, "list").stdout.splitlines()]
    assert {"key_id": made["key_id"], "revoked": True}.items() <= next(
        k for k in listed if k["key_id"] == made["key_id"]
    ).items()
    assert all("secret" not in json.dumps(k) and made["key"] not in json.dumps(k) for k in listed)
    for token in (made["key"], "dj_0123456789abcdef_" + "x" * 43):
        answer = convert(api_url, token, make_markdown(tmp_path / "no.md"))
        assert answer.status_code == 401 and "API key" in answer.json()["detail"]


def test_several_files_come_back_as_one_zip(api_url: str, api_key: str, tmp_path: Path) -> None:
    first, second = make_markdown(tmp_path / "one.md"), make_docx(tmp_path / "two.docx")
    with first.open("rb") as a, second.open("rb") as b:
        answer = httpx.post(
            f"{api_url}/v1/convert/file",
            files=[("files", (first.name, a)), ("files", (second.name, b))],
            data={"to_formats": ["md", "text"]},
            headers={KEY_HEADER: api_key},
            timeout=120,
        )
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip", answer.text
    names = sorted(zipfile.ZipFile(BytesIO(answer.content)).namelist())
    assert names == ["one.md", "one.txt", "two.md", "two.txt"]


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"target_type": "presigned_url"}, 422, "artifact storage to be configured"),
        ({"pdf_backend": "pypdfium2"}, 400, "Option 'pdf_backend'"),
        ({"to_formats": "yaml"}, 400, "Option 'to_formats'"),
        ({"to_formats": "pdfx"}, 422, "Option 'to_formats.0'"),
        ({"table_mode": "fast"}, 400, "Option 'table_mode'"),
    ],
)
def test_refusals_name_what_is_wrong(
    api_url: str, api_key: str, tmp_path: Path, fields: dict, status: int, words: str
) -> None:
    answer = convert(api_url, api_key, make_markdown(tmp_path / "x.md"), **fields)
    assert answer.status_code == status and words in answer.json()["detail"], answer.text


def test_base64_sources_and_the_service_routes(api_url: str, api_key: str, tmp_path: Path) -> None:
    path = make_markdown(tmp_path / "source.md")
    body = {
        "sources": [
            {
                "kind": "file",
                "filename": path.name,
                "base64_string": base64.b64encode(path.read_bytes()).decode(),
            }
        ],
        "target": {"kind": "inbody"},
        "options": {"to_formats": ["md"]},
    }
    answer = httpx.post(f"{api_url}/v1/convert/source", json=body, headers={KEY_HEADER: api_key}, timeout=120)
    assert answer.status_code == 200 and answer.json()["document"]["md_content"].startswith("# Release notes")
    assert httpx.get(f"{api_url}/ready").json() == {"status": "ok"}
    assert "docling-jobs" in httpx.get(f"{api_url}/version").json()


def test_clearing_results_forgets_the_callers_old_task_ids(
    api_url: str, api_key: str, tmp_path: Path
) -> None:
    task_id = convert(api_url, api_key, make_markdown(tmp_path / "old.md"), "/v1/convert/file/async").json()[
        "task_id"
    ]
    headers = {KEY_HEADER: api_key}
    assert httpx.get(f"{api_url}/v1/clear/converters", headers=headers).json() == {"status": "ok"}
    cleared = httpx.get(f"{api_url}/v1/clear/results", params={"older_then": 0}, headers=headers)
    assert cleared.status_code == 200 and cleared.json() == {"status": "ok"}
    gone = httpx.get(f"{api_url}/v1/status/poll/{task_id}", headers=headers)
    assert gone.status_code == 404 and gone.json()["detail"] == "Task not found."


def expected_chunks(document_json: str) -> list[dict]:
    """docling-core's HierarchicalChunker over a DoclingDocument, as docling-serve reports each chunk."""
    from docling_core.transforms.chunker.hierarchical_chunker import HierarchicalChunker
    from docling_core.types.doc import DoclingDocument

    chunker = HierarchicalChunker()
    return [
        {
            "text": chunker.contextualize(chunk),
            "raw_text": chunk.text,
            "headings": chunk.meta.headings,
            "doc_items": [item.self_ref for item in chunk.meta.doc_items],
        }
        for chunk in chunker.chunk(DoclingDocument.model_validate_json(document_json))
    ]


async def mcp_servers_json(api_url: str, api_key: str, mcp_url: str, stack_env: dict, path: Path) -> str:
    """The MCP server's own DoclingDocument for the file: asked directly where it can say (ours),
    else through a conversion job (the official server has no JSON export tool)."""
    if OWN:
        copy = shutil.copy(path, Path(stack_env["UPLOAD_DIR"]) / f"direct-{uuid.uuid4().hex}-{path.name}")
        return await direct_json(mcp_url, Path(copy), mcp_token(stack_env))
    converted = convert(api_url, api_key, path, to_formats="json")
    return json.dumps(converted.json()["document"]["json_content"])


async def test_hierarchical_chunks_of_a_docx_follow_its_headings(
    api_url: str, api_key: str, mcp_url: str, stack_env: dict, tmp_path: Path
) -> None:
    path = make_sectioned_docx(tmp_path / "guide.docx")
    fields = {"chunking_include_raw_text": "true", "include_converted_doc": "true"}
    answer = convert(api_url, api_key, path, "/v1/chunk/hierarchical/file", **fields)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    chunks = body["chunks"]
    title = chunks[0]["headings"][0]
    assert title.startswith("Field guide ")
    assert [c["headings"] for c in chunks] == [
        [title],
        [title, "Northern region"],
        [title, "Southern region"],
        [title, "Southern region"],
    ]
    assert [c["raw_text"] for c in chunks[:3]] == [
        "This guide covers two regions.",
        "Pine forests cover the northern hills.",
        "Olive groves line the southern coast.",
    ]
    assert chunks[1]["text"] == f"{title}\nNorthern region\nPine forests cover the northern hills."
    assert chunks[3]["doc_items"] == ["#/tables/0"] and "Olive" in chunks[3]["text"]
    assert {(c["filename"], c["num_tokens"], c["metadata"]["has_image"]) for c in chunks} == {
        ("guide.docx", None, False)
    }
    assert [c["chunk_index"] for c in chunks] == list(range(len(chunks)))
    document_json = await mcp_servers_json(api_url, api_key, mcp_url, stack_env, path)
    assert [{k: c[k] for k in ("text", "raw_text", "headings", "doc_items")} for c in chunks] == (
        expected_chunks(document_json)
    )
    [document] = body["documents"]
    assert document["kind"] == "ExportResult" and document["status"] == "success"
    assert document["content"]["filename"] == "guide.docx"
    assert document["content"]["json_content"]["schema_name"] == "DoclingDocument"
    assert body["processing_time"] > 0


def test_an_async_chunk_task_is_polled_then_answers_its_chunks(
    api_url: str, api_key: str, tmp_path: Path
) -> None:
    path = make_sectioned_docx(tmp_path / "async.docx")
    headers = {KEY_HEADER: api_key}
    body = {
        "sources": [
            {
                "kind": "file",
                "filename": path.name,
                "base64_string": base64.b64encode(path.read_bytes()).decode(),
            }
        ],
        "chunking_options": {"use_markdown_tables": True},
        "convert_options": {"to_formats": ["md"]},  # ignored on the chunk routes, as by docling-serve
    }
    submitted = httpx.post(
        f"{api_url}/v1/chunk/hierarchical/source/async", json=body, headers=headers, timeout=60
    )
    assert submitted.status_code == 200, submitted.text
    task = submitted.json()
    assert task["task_type"] == "chunk" and task["task_status"] == "pending", task
    polled = httpx.get(
        f"{api_url}/v1/status/poll/{task['task_id']}", params={"wait": 60}, headers=headers, timeout=90
    )
    assert polled.json()["task_status"] == "success" and polled.json()["task_type"] == "chunk", polled.text
    result = httpx.get(f"{api_url}/v1/result/{task['task_id']}", headers=headers, timeout=60)
    assert result.status_code == 200, result.text
    chunks = result.json()["chunks"]
    assert [c["headings"][-1] for c in chunks[1:]] == [
        "Northern region",
        "Southern region",
        "Southern region",
    ]
    assert "| Olive  |" in chunks[3]["text"]  # a Markdown table, as asked
    assert all(c["raw_text"] is None for c in chunks)  # include_raw_text left at its default
    assert result.json()["documents"][0]["content"]["json_content"] is None  # include_converted_doc: no


def chunk_task(api_url: str, api_key: str, path: Path, route: str, options: dict) -> httpx.Response:
    """One hybrid chunk request on ``route`` (file or source, sync or async): its answer."""
    if route.startswith("/file"):
        fields = {f"chunking_{name}": str(value).lower() for name, value in options.items()}
        answer = convert(api_url, api_key, path, f"/v1/chunk/hybrid{route}", **fields)
    else:
        encoded = base64.b64encode(path.read_bytes()).decode()
        answer = httpx.post(
            f"{api_url}/v1/chunk/hybrid{route}",
            json={
                "sources": [{"kind": "file", "filename": path.name, "base64_string": encoded}],
                "chunking_options": options,
            },
            headers={KEY_HEADER: api_key},
            timeout=120,
        )
    if not route.endswith("/async") or answer.status_code != 200:
        return answer
    task_id = answer.json()["task_id"]
    polled = httpx.get(
        f"{api_url}/v1/status/poll/{task_id}", params={"wait": 60}, headers={KEY_HEADER: api_key}, timeout=90
    )
    assert polled.json()["task_status"] == "success", polled.text
    return httpx.get(f"{api_url}/v1/result/{task_id}", headers={KEY_HEADER: api_key}, timeout=60)


@pytest.mark.parametrize("route", ["/source", "/file", "/source/async", "/file/async"])
def test_the_hybrid_chunker_cuts_to_max_tokens_with_the_bundled_tokenizer(
    api_url: str, api_key: str, tmp_path: Path, route: str
) -> None:
    path = make_sectioned_docx(tmp_path / "guide.docx")
    # each section's text fits 32 tokens with its headings; merge_peers off keeps them apart
    answer = chunk_task(api_url, api_key, path, route, {"max_tokens": 32, "merge_peers": False})
    assert answer.status_code == 200, answer.text
    chunks = answer.json()["chunks"]
    assert len(chunks) >= 4 and all(0 < c["num_tokens"] <= 32 for c in chunks), chunks
    assert any(c["headings"][-1:] == ["Northern region"] and "Pine forests" in c["text"] for c in chunks)
    assert [c["chunk_index"] for c in chunks] == list(range(len(chunks)))


def test_a_hybrid_request_for_another_tokenizer_or_chunker_is_refused(
    api_url: str, api_key: str, tmp_path: Path
) -> None:
    path = make_markdown(tmp_path / "hybrid.md")
    answer = chunk_task(api_url, api_key, path, "/file", {"tokenizer": "Qwen/Qwen3-Embedding-0.6B"})
    assert answer.status_code == 400, answer.text
    assert "'chunking_options.tokenizer'" in answer.json()["detail"]
    unknown = convert(api_url, api_key, path, "/v1/chunk/semantic/file")
    assert unknown.status_code == 404 and unknown.json()["detail"] == "Not Found"


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"chunking_use_markdown_tables": "sometimes"}, 422, "Option 'chunking_options.use_markdown_tables'"),
        ({"include_converted_doc": "maybe"}, 422, "Option 'include_converted_doc'"),
        ({"convert_table_mode": "fast"}, 400, "Option 'table_mode' is not applied"),
        ({"target_type": "zip"}, 400, "Target kind 'zip' is not supported on the chunk routes"),
        ({"target_type": "presigned_url"}, 422, "presigned_url target is not supported for chunk endpoints"),
    ],
)
def test_a_chunking_request_docling_jobs_cannot_serve_names_the_option(
    api_url: str, api_key: str, tmp_path: Path, fields: dict, status: int, words: str
) -> None:
    answer = convert(
        api_url, api_key, make_markdown(tmp_path / "x.md"), "/v1/chunk/hierarchical/file", **fields
    )
    assert answer.status_code == status and words in answer.json()["detail"], answer.text
