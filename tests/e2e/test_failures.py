"""Documents the server cannot convert end as failed jobs with an E2xx code, within seconds."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.documents import make_corrupt_docx, make_corrupt_pdf, make_pdf
from tests.e2e.helpers import read_stream, submit
from tests.servers import MCP_SERVER

UNCONVERTIBLE = {
    # the official server cannot convert any PDF without layout models; ours reads the text layer
    "official": {"pdf": (make_pdf, "doc.pdf"), "corrupt-docx": (make_corrupt_docx, "broken.docx")},
    "own": {  # (a scanned PDF converts there, by OCR: test_conversion.py)
        "corrupt-pdf": (make_corrupt_pdf, "bad.pdf"),
        "corrupt-docx": (make_corrupt_docx, "broken.docx"),
    },
}


@pytest.mark.parametrize("kind", sorted(UNCONVERTIBLE[MCP_SERVER]))
def test_unconvertible_documents_fail_with_a_code(kind: str, api: httpx.Client, tmp_path: Path) -> None:
    make, name = UNCONVERTIBLE[MCP_SERVER][kind]
    started = time.monotonic()
    job = submit(api, make(tmp_path / name))
    events = read_stream(api, job["job_id"], timeout=60)
    elapsed = time.monotonic() - started

    name, envelope = events[-1][1], events[-1][2]
    assert name == "ConversionFailed"
    assert envelope["data"]["code"] == "E205"
    assert envelope["data"]["message"] == "Document processing failed"
    assert envelope["data"]["recovery"] == "Retry with different document"
    assert elapsed < 30, f"failing took {elapsed:.1f} s"  # a bound against stuck jobs, not a benchmark

    state = api.get(f"/api/v1/jobs/{job['job_id']}").json()
    assert state["status"] == "failed" and state["error"]["code"] == "E205"
    result = api.get(f"/api/v1/jobs/{job['job_id']}/result")
    assert result.status_code == 409 and result.json()["code"] == "E106"
