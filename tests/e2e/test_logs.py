"""Every line a service writes to its log is one JSON object (the runbook greps `level` and
`trace_id`), the API's included: Litestar and FastStream bring text handlers of their own."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from devstack import Stack
from tests.documents import make_docx
from tests.e2e.helpers import read_stream, submit

SERVICES = ("api", "ingest", "converter", "progress")


def service_logs(stack: Stack, mcp_server: str) -> list[Path]:
    names = (*SERVICES, "mcp") if mcp_server == "own" else SERVICES  # the official server logs text
    return sorted(p for p in stack.layout.logs.glob("*.log") if p.stem.split("-")[0] in names)


def not_json_objects(path: Path) -> list[str]:
    bad = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or not {"ts", "level", "msg"} <= parsed.keys():
            bad.append(line)
    return bad


def test_every_service_log_line_is_a_json_object(
    stack: Stack, api: httpx.Client, mcp_server: str, tmp_path: Path
) -> None:
    job = submit(api, make_docx(tmp_path / "logged.docx"))  # a whole job: every service logs
    assert read_stream(api, job["job_id"])[-1][1] == "ConversionSucceeded"
    assert api.get("/api/v1/jobs/00000000-0000-4000-8000-000000000000").status_code == 404
    logs = service_logs(stack, mcp_server)
    assert {p.stem.split("-")[0] for p in logs} >= set(SERVICES), logs
    api_lines = sum(len(p.read_text().splitlines()) for p in logs if p.stem.startswith("api"))
    assert api_lines > 0
    assert {p.name: not_json_objects(p)[:3] for p in logs if not_json_objects(p)} == {}
