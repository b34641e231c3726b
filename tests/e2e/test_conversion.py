"""Documents go through the public API and come out as the MCP server itself would convert them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest

from services.api.adapters.sessions import owner_of
from tests.documents import MAKERS, make_csv, make_pdf, make_scanned_image, make_scanned_pdf
from tests.e2e.helpers import direct_markdown, mcp_token, read_stream, submit
from tests.servers import OWN

START = ["JobSubmitted", "UploadStored", "ConversionStarted"]
STAGES = ["converting", "exporting_markdown", "exporting_json", "exporting_html"]


def assert_in_order(events: list[tuple[int, str, dict]]) -> None:
    """The start, progress that never goes back and passes every stage, the success; ids 1, 2, 3..."""
    names = [name for _, name, _ in events]
    assert names[:3] == START and names[-1] == "ConversionSucceeded", names
    middle = [envelope["data"] for _, name, envelope in events[3:-1]]
    assert all(name == "ConversionProgressed" for name in names[3:-1]), names
    progress = [data["progress"] for data in middle]
    assert progress == sorted(progress), progress
    finished = [data["stage"] for data in middle if data["progress"] >= 60]
    assert finished == STAGES, finished
    assert [event_id for event_id, _, _ in events] == list(range(1, len(events) + 1)), (
        "SSE ids are the job's event numbers: 1, 2, 3, ..."
    )


@pytest.mark.parametrize("kind", sorted(MAKERS))
async def test_markdown_equals_the_servers_own_answer(
    kind: str, api: httpx.Client, mcp_url: str, stack_env: dict[str, str], tmp_path: Path
) -> None:
    document = MAKERS[kind](tmp_path / f"sample.{kind}")
    job = submit(api, document)
    events = read_stream(api, job["job_id"])

    assert_in_order(events)
    assert all(envelope["job_id"] == job["job_id"] for _, _, envelope in events)

    ours = api.get(f"/api/v1/jobs/{job['job_id']}/result", params={"format": "markdown"})
    assert ours.status_code == 200 and ours.headers["content-type"].startswith("text/markdown")
    # a fresh source where the server may read (its allowed root), answered from its cache or not
    copy = shutil.copy(document, Path(stack_env["UPLOAD_DIR"]) / f"direct-{job['job_id']}.{kind}")
    assert ours.text == await direct_markdown(mcp_url, Path(copy), mcp_token(stack_env))


def test_html_and_json_results(api: httpx.Client, tmp_path: Path) -> None:
    job = submit(api, MAKERS["docx"](tmp_path / "report.docx"))
    read_stream(api, job["job_id"])
    heading = api.get(f"/api/v1/jobs/{job['job_id']}/result", params={"format": "markdown"}).text
    title = heading.splitlines()[0].lstrip("# ")

    html = api.get(f"/api/v1/jobs/{job['job_id']}/result", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html")
    assert "<html" in html.text and title in html.text and "<title>report</title>" in html.text
    assert 'filename="report.html"' in html.headers["content-disposition"]

    doc = api.get(f"/api/v1/jobs/{job['job_id']}/result", params={"format": "json"})
    assert doc.headers["content-type"].startswith("application/json")
    document = json.loads(doc.text)
    assert any(item.get("text") == title for item in document["texts"])
    assert (document["name"], document["origin"]["filename"]) == ("report", "report.docx")  # not the sha256


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
    syncs: list = []
    assert read_stream(api, job["job_id"], last_event_id=3, syncs=syncs) == events[3:]
    assert syncs == [
        {
            "job": syncs[0]["job"],
            "replay": {"complete": True, "source": "buffer", "first": 4, "last": len(events)},
        }
    ]
    assert syncs[0]["job"]["status"] == "succeeded"


def test_polling_form_gives_the_same_ids(api: httpx.Client, tmp_path: Path) -> None:
    job = submit(api, MAKERS["md"](tmp_path / "poll.md"))
    events = read_stream(api, job["job_id"])
    page = api.get(
        f"/api/v1/jobs/{job['job_id']}/events", params={"after": 2}, headers={"Accept": "application/json"}
    ).json()
    assert [(e["id"], e["event"], e["data"]) for e in page["events"]] == events[2:]
    assert page["job"]["status"] == "succeeded" and page["job"]["last_event_id"] == len(events)


def test_reconnecting_after_the_terminal_event_gets_204(api: httpx.Client, tmp_path: Path) -> None:
    job = submit(api, MAKERS["md"](tmp_path / "short.md"))
    last = read_stream(api, job["job_id"])[-1][0]
    response = api.get(f"/api/v1/jobs/{job['job_id']}/events", headers={"Last-Event-ID": str(last)})
    assert response.status_code == 204


def test_csv_converts(api: httpx.Client, tmp_path: Path) -> None:
    job = submit(api, make_csv(tmp_path / "table.csv"))
    assert_in_order(read_stream(api, job["job_id"]))
    markdown = api.get(f"/api/v1/jobs/{job['job_id']}/result", params={"format": "markdown"}).text
    assert "apples" in markdown and "|" in markdown


@pytest.mark.skipif(not OWN, reason="the official docling-mcp needs layout models for any PDF")
def test_a_text_pdf_converts_without_layout_models(api: httpx.Client, tmp_path: Path) -> None:
    job = submit(api, make_pdf(tmp_path / "letter.pdf"))
    assert_in_order(read_stream(api, job["job_id"]))
    markdown = api.get(f"/api/v1/jobs/{job['job_id']}/result", params={"format": "markdown"}).text
    assert "Hello PDF" in markdown


def test_public_events_carry_nothing_internal(
    api: httpx.Client, session_token: str, mcp_url: str, stack_env: dict[str, str], tmp_path: Path
) -> None:
    """The real stream and its polling form: no upload path, MCP address or owner hash."""
    job = submit(api, MAKERS["md"](tmp_path / "private.md"))
    streamed = json.dumps(read_stream(api, job["job_id"]))
    polled = api.get(
        f"/api/v1/jobs/{job['job_id']}/events", params={"after": 0}, headers={"Accept": "application/json"}
    ).text
    internals = (stack_env["UPLOAD_DIR"], mcp_url, owner_of(session_token), "staging_object", '"path"')
    for shown in (streamed, polled):
        assert "ConversionSucceeded" in shown
        assert not [value for value in internals if value in shown], shown


def test_results_are_gzipped_when_accepted_and_name_their_charset_once(
    api: httpx.Client, tmp_path: Path
) -> None:
    job = submit(api, MAKERS["docx"](tmp_path / "big.docx"))
    assert job["created_at"] and job["updated_at"] == job["created_at"]  # the submit answer's own time
    read_stream(api, job["job_id"])
    url = f"/api/v1/jobs/{job['job_id']}/result"
    packed = api.get(url, params={"format": "json"}, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip" and packed.json()["name"] == "big"
    plain = api.get(url, params={"format": "json"}, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == packed.content
    assert int(packed.headers["content-length"]) < len(plain.content) / 3
    markdown = api.get(url, params={"format": "markdown"})
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"


@pytest.mark.skipif(not OWN, reason="the official docling-mcp needs layout models for any PDF")
def test_a_scanned_pdf_converts_with_ocr_and_no_model_download(api: httpx.Client, tmp_path: Path) -> None:
    """An image-only PDF (no text layer) is read by tesseract (Debian's tesseract-ocr)."""
    job = submit(api, make_scanned_pdf(tmp_path / "scan.pdf"))
    assert_in_order(read_stream(api, job["job_id"]))
    markdown = api.get(f"/api/v1/jobs/{job['job_id']}/result", params={"format": "markdown"}).text
    assert "Scanned page" in markdown, markdown


@pytest.mark.skipif(not OWN, reason="the official docling-mcp needs layout models for any image")
@pytest.mark.parametrize(
    ("name", "pages"), [("photo.png", 1), ("photo.jpg", 1), ("pages.tiff", 2), ("photo.webp", 1)]
)
def test_an_image_is_read_by_ocr_page_by_page(
    name: str, pages: int, api: httpx.Client, tmp_path: Path
) -> None:
    """An image becomes a scan: one PDF page per frame, read by tesseract; no model download."""
    job = submit(api, make_scanned_image(tmp_path / name, pages))
    assert_in_order(read_stream(api, job["job_id"]))
    markdown = api.get(f"/api/v1/jobs/{job['job_id']}/result", params={"format": "markdown"}).text
    for number in range(1, pages + 1):
        assert f"Scanned image {number}" in markdown, markdown
