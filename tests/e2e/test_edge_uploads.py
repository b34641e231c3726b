"""Upload validation against the running stack: refused with a clear 4xx, and nothing stored."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack import Stack
from tests.e2e.helpers import authorized, new_session, projected_so_far
from tests.e2e.test_api_errors import assert_problem
from tests.waiting import wait_for

MB = 1024 * 1024
BOUNDARY = "docling-test-boundary"


def multipart(filename: bytes, content: bytes, field: bytes = b"file", close: bool = True) -> bytes:
    """A multipart/form-data body built by hand, so file names reach the server byte for byte
    (httpx would percent-encode control characters and escape quotes)."""
    body = (
        b"--"
        + BOUNDARY.encode()
        + b'\r\nContent-Disposition: form-data; name="'
        + field
        + b'"; filename="'
        + filename
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + content
        + b"\r\n"
    )
    return body + (b"--" + BOUNDARY.encode() + b"--\r\n" if close else b"")


def post(
    client: httpx.Client,
    body: bytes | Iterator[bytes],
    content_type: str = f"multipart/form-data; boundary={BOUNDARY}",
) -> httpx.Response:
    return client.post("/api/v1/jobs", content=body, headers={"Content-Type": content_type})


@pytest.fixture
def fresh(stack: Stack) -> Iterator[httpx.Client]:
    """A session of its own, so 'nothing stored' can be read from its (empty) job list."""
    with authorized(stack.urls.api, new_session(stack.urls.api), timeout=60) as client:
        yield client
    # after every refusal: the session owns no job, and the stream holds no JobSubmitted for it


def assert_nothing_stored(stack: Stack, client: httpx.Client) -> None:
    """After a refusal: a JobSubmitted published by mistake (before the answer) is in the log by
    now; once the projection has caught up with the log, it would be in the session's job list."""
    projected_so_far(stack)
    assert client.get("/api/v1/jobs").json()["jobs"] == []


HOSTILE = {
    "traversal": b"../../etc/passwd.md",
    "absolute": b"/etc/cron.d/x.md",
    "windows-path": b"C:\\Windows\\system32\\x.md",
    "windows-traversal": b"..\\..\\x.md",
    "nul": b"a\x00b.md",
    "escape": b"a\x1b[31mred.md",
    "tab": b"a\tb.md",
    "del": b"a\x7fb.md",
    "bidi-override": "invoice\u202excod.docx".encode(),
    "zero-width": "a\u200bb.md".encode(),
    "not-utf8": b"\xff\xfe.md",
    "dotfile": b".bashrc.md",
    "only-extension": b".md",
    "blank": b"",
    "spaces": b"   ",
    "too-long": b"a" * 256 + b".md",
    "too-many-bytes": "\u00e9".encode() * 127 + b".md",
    "trailing-dot": b"x.md.",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_each_hostile_filename_is_refused(stack: Stack, fresh: httpx.Client, name: str) -> None:
    assert_problem(post(fresh, multipart(HOSTILE[name], b"# fine content\n")), 400, "E109")
    assert_nothing_stored(stack, fresh)


@pytest.mark.parametrize("raw", [b"a\r\nX-Injected: 1.md", b"a\nb.md"], ids=["crlf", "lf"])
def test_a_line_break_in_the_filename_is_refused(stack: Stack, fresh: httpx.Client, raw: bytes) -> None:
    response = post(fresh, multipart(raw, b"# x\n"))
    assert response.status_code == 400 and response.json()["code"] in ("E109", "E110")
    assert_nothing_stored(stack, fresh)


@pytest.mark.parametrize(
    ("filename", "content", "status", "code"),
    [
        (b"report.docx", b"# I am markdown, not a DOCX\n", 415, "E111"),
        (b"sheet.xlsx", b"%PDF-1.4\n...", 415, "E111"),
        (b"paper.pdf", b"PK\x03\x04 a zip", 415, "E111"),
        (b"notes.md", b"PK\x03\x04\x14\x00\x00\x00\x08\x00 a zip", 415, "E111"),
        (b"data.csv", b"a,b\n1,\x00\x01\x02", 415, "E111"),
        (b"page.html", b"\x89PNG\r\n\x1a\n", 415, "E111"),
        (b"virus.exe", b"MZ\x90\x00", 415, "E103"),
        (b"archive.tar.gz", b"\x1f\x8b", 415, "E103"),
        (b"empty.docx", b"", 400, "E102"),
    ],
)
def test_content_and_type_are_checked(
    stack: Stack, fresh: httpx.Client, filename: bytes, content: bytes, status: int, code: str
) -> None:
    assert_problem(post(fresh, multipart(filename, content)), status, code)
    assert_nothing_stored(stack, fresh)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (multipart(b"a.md", b"# x\n", close=False), None),  # no closing boundary
        (b"this is not multipart at all", None),
        (b"--" + BOUNDARY.encode() + b"\r\nno headers end here", None),
        (
            b"--"
            + BOUNDARY.encode()
            + b"\r\nContent-Type: text/plain\r\n\r\nx\r\n--"
            + BOUNDARY.encode()
            + b"--\r\n",
            None,
        ),  # a part without Content-Disposition
        (multipart(b"a.md", b"# x\n"), "multipart/form-data"),  # no boundary
        (multipart(b"a.md", b"# x\n"), "application/json"),
        (multipart(b"a.md", b"# x\n"), f"multipart/form-data; boundary={'b' * 300}"),
    ],
    ids=[
        "unclosed",
        "garbage",
        "headers-unterminated",
        "no-disposition",
        "no-boundary",
        "json",
        "huge-boundary",
    ],
)
def test_malformed_multipart_is_400(
    stack: Stack, fresh: httpx.Client, body: bytes, content_type: str | None
) -> None:
    response = post(fresh, body, content_type or f"multipart/form-data; boundary={BOUNDARY}")
    assert_problem(response, 400, "E110")
    assert_nothing_stored(stack, fresh)


def test_a_good_upload_next_to_other_fields_is_accepted(fresh: httpx.Client) -> None:
    body = (
        b"--"
        + BOUNDARY.encode()
        + b'\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n'
        + multipart(b"ok.md", b"# accepted\n")
    )
    response = post(fresh, body)
    assert response.status_code == 202, response.text
    assert response.json()["filename"] == "ok.md" and response.json()["size_bytes"] == 11


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


class RssWatch:
    """The highest resident set size of a process, sampled every 20 ms in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, rss_kb(pid), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_kb(self.pid))


def test_a_101_mb_upload_is_refused_while_it_streams_and_memory_stays_flat(stack: Stack) -> None:
    sent = [0]
    chunk = b"# line of markdown text, over and over\n" * 1638  # about 64 KiB

    def body() -> Iterator[bytes]:  # chunked: no Content-Length, so the server must count
        yield multipart(b"big.md", b"", close=False)[:-2]  # headers of the file part, no content yet
        while sent[0] < 101 * MB:
            sent[0] += len(chunk)
            yield chunk
        yield b"\r\n--" + BOUNDARY.encode() + b"--\r\n"

    pid = stack.pid("api")
    token = new_session(stack.urls.api)
    with authorized(stack.urls.api, token, timeout=120) as client:
        client.get("/api/v1/jobs")  # warm: first-request allocations are not the upload's
        before = rss_kb(pid)
        with RssWatch(pid) as watch:
            started = time.monotonic()
            response = post(client, body())
            elapsed = time.monotonic() - started
        assert_problem(response, 413, "E101")
        assert_nothing_stored(stack, client)
    growth_mb = (watch.peak - before) / 1024
    print(
        f"101 MB upload: 413 after {sent[0] / MB:.1f} MB sent in {elapsed:.1f} s; API RSS "
        f"{before / 1024:.1f} MB before, peak {watch.peak / 1024:.1f} MB (+{growth_mb:.1f} MB)"
    )
    assert growth_mb < 20, f"the API's memory grew by {growth_mb:.1f} MB for a refused upload"


def test_the_rest_of_an_oversized_stream_is_not_read(stack: Stack) -> None:
    """A 1 GB chunked upload: the API answers 413 once the file passes the limit and reads no
    further, so the client cannot push much beyond the limit (socket buffers aside)."""
    sent, chunk = [0], b"x" * MB

    def body() -> Iterator[bytes]:
        yield multipart(b"huge.md", b"", close=False)[:-2]
        while sent[0] < 1024 * MB:
            sent[0] += len(chunk)
            yield chunk

    with authorized(stack.urls.api, new_session(stack.urls.api), timeout=120) as client:
        response = post(client, body())
    assert_problem(response, 413, "E101")
    print(f"1 GB upload: 413 after {sent[0] / MB:.0f} MB sent")
    assert sent[0] < 200 * MB, f"{sent[0] / MB:.0f} MB were taken in although the limit is 100 MB"


def test_an_announced_oversized_body_is_refused_before_it_is_read(stack: Stack) -> None:
    token = new_session(stack.urls.api)
    with authorized(stack.urls.api, token, timeout=60) as client:
        sent = [0]

        def body() -> Iterator[bytes]:
            for _ in range(200):
                sent[0] += MB
                yield b"x" * MB

        response = client.post(
            "/api/v1/jobs",
            content=body(),
            headers={
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                "Content-Length": str(200 * MB),
            },
        )
    assert_problem(response, 413, "E101")
    assert sent[0] < 200 * MB, "the whole body was sent although its length was announced too large"


def test_an_accepted_upload_reports_its_size_and_hash(fresh: httpx.Client) -> None:
    import hashlib

    content = b"# hashed " + uuid.uuid4().hex.encode() + b"\n"
    job = post(fresh, multipart(b"h.md", content)).json()
    assert job["size_bytes"] == len(content)
    events = wait_for(
        lambda: fresh.get(
            f"/api/v1/jobs/{job['job_id']}/events",
            params={"after": 0},
            headers={"Accept": "application/json"},
        ).json()["events"],
        60,
        "the job's first event",
        every=0.2,
    )
    assert events[0]["data"]["data"]["sha256"] == hashlib.sha256(content).hexdigest()
