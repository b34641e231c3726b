"""docling's own docling-serve clients, unchanged, pointed at docling-jobs.

``DoclingServiceClient`` and ``AsyncDoclingServiceClient`` run in the MCP server's environment
(``.venv-mcp``: the only one with the ``docling`` package; its client needs ``websockets<17``,
which the services' environment cannot take, and importing docling costs seconds of torch), as one
subprocess for every scenario (``docling_client_driver.py``), so the import is paid once.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from devstack.layout import REPO_ROOT
from tests.documents import make_csv, make_docx, make_html, make_markdown, make_pptx, make_xlsx
from tests.e2e.helpers import direct_markdown, mcp_token

DRIVER = Path(__file__).with_name("docling_client_driver.py")
CLIENT_PYTHON = REPO_ROOT / ".venv-mcp" / "bin" / "python"
MAKERS = {
    "docx": make_docx,
    "pptx": make_pptx,
    "xlsx": make_xlsx,
    "xlsm": make_xlsx,  # a workbook under the macro-enabled name: refused with E103 before
    "html": make_html,
    "md": make_markdown,
    "csv": make_csv,
}


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("docling-serve-clients")
    return [maker(folder / f"sample.{kind}") for kind, maker in MAKERS.items()]


@pytest.fixture(scope="module")
def driven(api_url: str, session_token: str, documents: list[Path]) -> dict:
    """What the clients got, every scenario in one run of the driver."""
    assert CLIENT_PYTHON.exists(), f"{CLIENT_PYTHON}: make install creates it"
    args = {"url": api_url, "api_key": session_token, "files": [str(p) for p in documents]}
    args["async_file"] = str(documents[0])
    done = subprocess.run(
        [str(CLIENT_PYTHON), str(DRIVER), json.dumps(args)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
async def direct(mcp_url: str, stack_env: dict[str, str], documents: list[Path]) -> dict[str, str]:
    """The MCP server's own Markdown for each document (read from where it may read)."""
    answers = {}
    for path in documents:
        copy = shutil.copy(path, Path(stack_env["UPLOAD_DIR"]) / f"direct-{path.parent.name}-{path.name}")
        answers[path.name] = await direct_markdown(mcp_url, Path(copy), mcp_token(stack_env))
    return answers


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_convert_gives_the_mcp_servers_markdown(kind: str, driven: dict, direct: dict[str, str]) -> None:
    name = f"sample.{kind}"
    assert direct[name].strip(), "the MCP server converts it"
    assert driven["convert"][name] == direct[name]


def test_convert_all_gives_the_same_markdown_for_every_file(driven: dict, direct: dict[str, str]) -> None:
    assert driven["convert_all"] == direct


def test_async_submit_watch_and_result(driven: dict, direct: dict[str, str]) -> None:
    done = driven["async"]
    assert done["statuses"][-1] == "success" and done["polled"] == "success", done
    assert set(done["statuses"]) <= {"pending", "started", "success"}, done["statuses"]
    assert done["markdown"] == direct[done["filename"]]


def test_an_option_docling_jobs_does_not_apply_is_a_400_the_client_reports(driven: dict) -> None:
    refused = driven["invalid_option"]
    assert refused["raised"] == "ServiceError" and refused["status"] == 400, refused
    assert "do_picture_description" in refused["detail"], refused


def test_the_clients_health_check_passes(driven: dict) -> None:
    assert driven["health"] in {"healthy", "degraded"}


def test_chunk_gives_the_hierarchical_and_the_hybrid_chunks(driven: dict, documents: list[Path]) -> None:
    chunks = driven["chunk"]
    assert chunks and {c["filename"] for c in chunks} == {documents[0].name}, chunks
    assert chunks[0]["headings"][0].startswith("Quarterly report") and "Revenue grew" in chunks[0]["text"]
    assert all(c["num_tokens"] is None for c in chunks)  # the hierarchical chunker counts none
    hybrid = driven["hybrid"]  # the default tokenizer and its default limit (256 tokens)
    assert hybrid and all(isinstance(c["num_tokens"], int) and 0 < c["num_tokens"] <= 256 for c in hybrid), (
        hybrid
    )
    assert any("Revenue grew" in c["text"] for c in hybrid)
