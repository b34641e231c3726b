"""Bad requests get problem+json with an application code; nothing is stored for them."""

from __future__ import annotations

import uuid

import httpx
import pytest

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["detail"]


def test_unknown_job_is_404(api: httpx.Client) -> None:
    job_id = uuid.uuid4()
    for path in ("", "/result", "/events"):
        assert_problem(api.get(f"/api/v1/jobs/{job_id}{path}"), 404, "E104")


def test_malformed_job_id_is_404(api: httpx.Client) -> None:
    assert_problem(api.get("/api/v1/jobs/not-a-uuid"), 404, "E104")


@pytest.mark.parametrize(
    ("name", "content", "status", "code"),
    [
        ("virus.exe", b"MZ...", 415, "E103"),
        ("empty.docx", b"", 400, "E102"),
        ("", b"data", 400, "E109"),
    ],
)
def test_refused_uploads(api: httpx.Client, name: str, content: bytes, status: int, code: str) -> None:
    assert_problem(api.post("/api/v1/jobs", files={"file": (name, content)}), status, code)


def test_upload_without_a_file_field(api: httpx.Client) -> None:
    assert_problem(api.post("/api/v1/jobs", files={"other": ("a.md", b"# x")}), 400, "E100")


def test_upload_that_is_not_multipart(api: httpx.Client) -> None:
    assert_problem(api.post("/api/v1/jobs", data={"file": "x"}), 400, "E110")


def test_malformed_last_event_id(api: httpx.Client) -> None:
    response = api.post("/api/v1/jobs", files={"file": ("n.md", b"# hi")})
    job_id = response.json()["job_id"]
    reply = api.get(f"/api/v1/jobs/{job_id}/events", headers={"Last-Event-ID": "yesterday"})
    assert_problem(reply, 400, "E100")


def test_unknown_result_format(api: httpx.Client) -> None:
    response = api.post("/api/v1/jobs", files={"file": ("n.md", b"# hi")})
    reply = api.get(f"/api/v1/jobs/{response.json()['job_id']}/result", params={"format": "docx"})
    assert_problem(reply, 400, "E100")


def test_openapi_document_is_served(api: httpx.Client) -> None:
    schema = api.get("/schema/openapi.json").json()
    operations = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert {
        "submitJob",
        "getJob",
        "streamJobEvents",
        "getJobResult",
        "getHealth",
        "listJobs",
        "createSession",
        "getSession",
        "endSession",
        "cancelJob",
        "getMetrics",
    } <= operations
    assert set(schema["components"]["securitySchemes"]) == {"session_bearer", "session_cookie"}
    submit = schema["paths"]["/api/v1/jobs"]["post"]
    assert submit["security"] == [{"session_bearer": []}, {"session_cookie": []}]
    body = submit["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["file"] and body["properties"]["file"]["format"] == "binary"
    assert "security" not in schema["paths"]["/api/v1/sessions"]["post"]


def test_health_reports_each_dependency(api: httpx.Client) -> None:
    body = api.get("/api/v1/health").json()
    assert body["status"] == "healthy"
    assert {name for name, dep in body["dependencies"].items() if dep["status"] == "up"} == {
        "postgres",
        "redis",
        "nats",
        "mcp",
    }


def test_web_page_is_served(api: httpx.Client) -> None:
    page = api.get("/")
    assert page.status_code == 200 and "docling-jobs" in page.text and 'type="file"' in page.text
    assert "/api/v1/sessions" in page.text  # the page starts a cookie session before uploading
