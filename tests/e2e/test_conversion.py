"""Documents go through the public API and come out as the MCP server itself would convert them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest

from tests.documents import MAKERS
from tests.e2e.helpers import direct_markdown, read_stream, submit

EXPECTED_ORDER = ["JobSubmitted", "UploadStored", "ConversionStarted", "ConversionProgressed",
                  "ConversionProgressed", "ConversionProgressed", "ConversionProgressed",
                  "ConversionSucceeded"]


@pytest.mark.parametrize("kind", sorted(MAKERS))
async def test_markdown_equals_the_servers_own_answer(kind: str, api: httpx.Client, mcp_url: str,
                                                      tmp_path: Path) -> None:
    document = MAKERS[kind](tmp_path / f"sample.{kind}")
    job = submit(api, document)
    events = read_stream(api, job["job_id"])

    assert [name for _, name, _ in events] == EXPECTED_ORDER
    ids = [event_id for event_id, _, _ in events]
    assert ids == sorted(set(ids)), "SSE ids must strictly increase"
    assert all(envelope["job_id"] == job["job_id"] for _, _, envelope in events)

    ours = api.get(f"/api/v1/jobs/{job['job_id']}/result", params={"format": "markdown"})
    assert ours.status_code == 200 and ours.headers["content-type"].startswith("text/markdown")
    copy = shutil.copy(document, tmp_path / f"direct.{kind}")  # a fresh source, not the server's cache
    assert ours.text == await direct_markdown(mcp_url, Path(copy))


def test_html_and_json_results(api: httpx.Client, tmp_path: Path) -> None:
    job = submit(api, MAKERS["docx"](tmp_path / "report.docx"))
    read_stream(api, job["job_id"])
    heading = api.get(f"/api/v1/jobs/{job['job_id']}/result", params={"format": "markdown"}).text
    title = heading.splitlines()[0].lstrip("# ")

    html = api.get(f"/api/v1/jobs/{job['job_id']}/result", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html")
    assert "<html" in html.text and title in html.text

    doc = api.get(f"/api/v1/jobs/{job['job_id']}/result", params={"format": "json"})
    assert doc.headers["content-type"].startswith("application/json")
    assert any(item.get("text") == title for item in json.loads(doc.text)["texts"])


def test_job_state_after_success(api: httpx.Client, tmp_path: Path) -> None:
    job = submit(api, MAKERS["md"](tmp_path / "notes.md"))
    events = read_stream(api, job["job_id"])
    state = api.get(f"/api/v1/jobs/{job['job_id']}").json()
    assert state["status"] == "succeeded" and state["progress"] == 100
    assert state["filename"] == "notes.md" and sorted(state["formats"]) == ["html", "json", "markdown"]
    assert state["last_event_id"] == events[-1][0]


def test_replay_from_last_event_id(api: httpx.Client, tmp_path: Path) -> None:
    job = submit(api, MAKERS["html"](tmp_path / "page.html"))
    events = read_stream(api, job["job_id"])
    middle = events[2][0]
    assert read_stream(api, job["job_id"], last_event_id=middle) == events[3:]


def test_reconnecting_after_the_terminal_event_gets_204(api: httpx.Client, tmp_path: Path) -> None:
    job = submit(api, MAKERS["md"](tmp_path / "short.md"))
    last = read_stream(api, job["job_id"])[-1][0]
    response = api.get(f"/api/v1/jobs/{job['job_id']}/events", headers={"Last-Event-ID": str(last)})
    assert response.status_code == 204
