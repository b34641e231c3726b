"""One trace per job: the spans every service exports over OTLP/HTTP form one tree (real stack)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx

from devstack import Stack
from tests.documents import make_docx
from tests.otlp import Receiver, Span
from tests.waiting import wait_for

SERVICES = {"api", "ingest", "converter", "progress"}
MCP_CALLS = {
    "mcp tools/call convert_document_into_docling_document",
    "mcp tools/call export_docling_document_to_markdown",
}
SERVER, CONSUMER = 2, 5  # OTLP SpanKind values


def ancestors(span: Span, by_id: dict[str, Span]) -> list[Span]:
    chain = []
    while span.parent_id in by_id:
        span = by_id[span.parent_id]
        chain.append(span)
    return chain


def complete(spans: list[Span], job_id: str, caller: str) -> bool:
    """Every service reported, the MCP calls are there, progress projected the outcome, and every
    span's parent has arrived (exporters send in batches of their own: a child may come first)."""
    names, ids = {s.name for s in spans}, {s.span_id for s in spans} | {caller}
    return (
        {s.service for s in spans} == SERVICES
        and MCP_CALLS <= names
        and any(s.service == "progress" and f"jobs.{job_id}.outcome" in s.name for s in spans)
        and all(s.parent_id in ids for s in spans)
    )


def test_one_job_is_one_trace_across_every_service(
    api: httpx.Client, otlp: Receiver, stack: Stack, tmp_path: Path
) -> None:
    trace_id, caller = secrets.token_hex(16), secrets.token_hex(8)
    document = make_docx(tmp_path / "traced.docx")
    with document.open("rb") as handle:
        response = api.post(
            "/api/v1/jobs",
            files={"file": (document.name, handle)},
            headers={"traceparent": f"00-{trace_id}-{caller}-01"},
        )
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    wait_for(
        lambda: api.get(f"/api/v1/jobs/{job_id}").json()["status"] == "succeeded", 60, "the job", every=0.2
    )
    spans = wait_for(
        lambda: (found := otlp.trace(trace_id)) and complete(found, job_id, caller) and found,
        60,
        "every service's spans, each with its parent",
        every=0.2,
    )
    by_id = {s.span_id: s for s in spans}

    # one root: the upload request, a child of the caller's span
    roots = [s for s in spans if s.parent_id not in by_id]
    assert [(r.service, r.kind, r.name, r.parent_id) for r in roots] == [
        ("api", SERVER, "POST /api/v1/jobs", caller)
    ], roots
    root = roots[0]

    # every span of this job is in this trace: nothing about the job started a trace of its own
    about_job = [s for s in otlp.all() if job_id in s.name]
    assert about_job and all(s.trace_id == trace_id for s in about_job)

    # each service's work hangs under the previous service's publish
    def consumed(service: str, event_type: str) -> list[Span]:
        return [
            s
            for s in spans
            if s.service == service
            and s.kind == CONSUMER
            and s.name.startswith(f"jobs.{job_id}.{event_type}")
        ]

    ingest = consumed("ingest", "JobSubmitted")
    converter = consumed("converter", "UploadStored")
    assert ingest and converter
    assert root in ancestors(ingest[0], by_id)
    assert {"api", "ingest"} <= {a.service for a in ancestors(converter[0], by_id)}
    assert ingest[0] in ancestors(converter[0], by_id)

    # each MCP call is a span under the converter's handling of UploadStored
    calls = [s for s in spans if s.name.startswith("mcp tools/call ")]
    assert MCP_CALLS <= {c.name for c in calls}
    assert all(c.service == "converter" and converter[0] in ancestors(c, by_id) for c in calls)

    # progress projected every event under the span that published it
    projected = [s for s in spans if s.service == "progress"]
    assert len(projected) >= 7  # submitted, stored, started, four stages, succeeded
    for span in projected:
        parent = by_id[span.parent_id]
        assert parent.service in {"api", "ingest", "converter"} and parent.kind in (3, 4)  # producer

    # the services' log lines carry the trace id
    lines = [
        json.loads(line)
        for name in ("converter", "converter-2")
        if name in stack.components
        for line in stack.layout.log(name).read_text().splitlines()
        if line.startswith("{")
    ]
    assert any(line.get("job_id") == job_id and line.get("trace_id") == trace_id for line in lines)
