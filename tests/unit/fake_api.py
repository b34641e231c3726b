"""An in-memory docling-jobs API for ``httpx.MockTransport``: one finished job, scripted failures."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx

JOB_ID = "0b7d5c8e-0000-4000-8000-000000000001"
BASE = f"/api/v1/jobs/{JOB_ID}"
SESSION_ID = "5e55a7f0-0000-4000-8000-000000000001"
SUCCEEDED = [
    ("JobSubmitted", {}),
    ("UploadStored", {}),
    ("ConversionStarted", {}),
    ("ConversionProgressed", {"stage": "converting", "progress": 60}),
    ("ConversionProgressed", {"stage": "exporting_markdown", "progress": 75}),
    ("ConversionSucceeded", {"formats": ["markdown"]}),
]
FAILED = [
    *SUCCEEDED[:3],
    (
        "ConversionFailed",
        {
            "code": "E205",
            "message": "Document processing failed",
            "recovery": "Retry with different document",
            "stage": "converting",
        },
    ),
]


def sse_frame(event: str, data: object, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data)}\n\n".encode()


class FakeApi:
    """``cuts[i]``: how many events connection ``i`` sends before the network drops (then all of them).

    ``sse_down``: the events stream answers 503 forever. ``listable``: whether the events-after-id
    poll exists (else it answers with an event stream, as a server without it does).
    """

    def __init__(
        self,
        events: list[tuple[str, dict]],
        cuts: tuple[int, ...] = (),
        sse_down: bool = False,
        listable: bool = True,
    ) -> None:
        self.events = [
            (seq, kind, {"event_type": kind, "job_id": JOB_ID, "data": data})
            for seq, (kind, data) in enumerate(events, start=1)
        ]
        self.cuts, self.sse_down, self.listable = list(cuts), sse_down, listable
        self.requests: list[httpx.Request] = []  # every request but session creations
        self.sessions_created = 0

    def client_transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def job(self) -> dict:
        kind, data = self.events[-1][1], self.events[-1][2]["data"]
        failed = kind == "ConversionFailed"
        return {
            "job_id": JOB_ID,
            "status": "failed" if failed else "succeeded",
            "stage": data.get("stage", "done"),
            "progress": 100,
            "last_event_id": len(self.events),
            "error": {k: data[k] for k in ("code", "message", "recovery")} if failed else None,
        }

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path == "/api/v1/sessions":
            self.sessions_created += 1
            return httpx.Response(201, json={"session_id": SESSION_ID})
        self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {SESSION_ID}":
            return httpx.Response(401, json={"code": "E112"})
        if path == "/api/v1/sessions/current":
            return httpx.Response(200, json={"session_id": SESSION_ID})
        if request.method == "POST":
            return httpx.Response(202, json={"job_id": JOB_ID, "status": "submitted"})
        if path == BASE:
            return httpx.Response(200, json=self.job())
        if path == f"{BASE}/result":
            return httpx.Response(200, text="# converted\n")
        if "json" in request.headers.get("accept", "") and self.listable:
            return self._page(int(request.url.params["after"]))
        return self._stream(int(request.headers.get("last-event-id", 0)))

    def _page(self, after: int) -> httpx.Response:
        events = [{"id": seq, "event": kind, "data": env} for seq, kind, env in self.events if seq > after]
        return httpx.Response(200, json={"events": events, "job": self.job()})

    def _stream(self, after: int) -> httpx.Response:
        if self.sse_down:
            return httpx.Response(503, json={"code": "E503"})
        if after >= len(self.events):
            return httpx.Response(204)
        cut = self.cuts.pop(0) if self.cuts else None
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=self._frames(after, cut)
        )

    def _frames(self, after: int, cut: int | None) -> Iterator[bytes]:
        yield b": stream open\nretry: 1000\n\n"
        yield sse_frame("sync", {"job": self.job(), "replay": {"complete": True, "first": None}})
        missed = [(seq, kind, env) for seq, kind, env in self.events if seq > after]
        for sent, (seq, kind, env) in enumerate(missed):
            if sent == cut:
                raise httpx.ReadError("connection cut")
            yield sse_frame(kind, env, seq)
