"""The HTTP transport and ``Client.events`` over an in-memory API (``httpx.MockTransport``)."""

from pathlib import Path

import httpx
import pytest

from docling_jobs.client import Client
from docling_jobs.errors import ApiError
from docling_jobs.live import BACKUP_NOTICE, ConnectionLost, JobOver
from docling_jobs.transport import HttpTransport, parse_page
from tests.unit.fake_api import BASE, JOB_ID, SESSION_ID, SUCCEEDED, FakeApi


def transport_for(handler) -> HttpTransport:
    return HttpTransport(httpx.Client(base_url="http://api", transport=httpx.MockTransport(handler)))


def answering(response: httpx.Response):
    return lambda request: response


def test_the_stream_yields_every_message_and_sends_last_event_id_only_when_resuming() -> None:
    api = FakeApi(SUCCEEDED)
    transport = HttpTransport(Client(transport=api.client_transport()).http)
    messages = [m for m in transport.stream(JOB_ID, 0) if m.data]  # not the retry-only block
    assert [m.event for m in messages] == ["sync", *[kind for kind, _ in SUCCEEDED]]
    assert [m.id for m in messages][1:] == ["1", "2", "3", "4", "5", "6"]
    assert "last-event-id" not in api.requests[0].headers
    assert [m.id for m in transport.stream(JOB_ID, 4) if m.id] == ["5", "6"]
    assert api.requests[1].headers["last-event-id"] == "4"


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(204), JobOver),
        (httpx.Response(503, json={"code": "E503"}), ConnectionLost),
        (httpx.Response(429), ConnectionLost),
        (httpx.Response(200, text="<html>", headers={"content-type": "text/html"}), ConnectionLost),
        (httpx.Response(404, json={"code": "E104", "detail": "no such job"}), ApiError),
    ],
)
def test_stream_answers_become_outcomes(response: httpx.Response, error: type) -> None:
    with pytest.raises(error):
        list(transport_for(answering(response)).stream(JOB_ID, 0))


def test_a_cut_mid_stream_is_a_lost_connection_after_what_arrived() -> None:
    transport = HttpTransport(Client(transport=FakeApi(SUCCEEDED, cuts=(2,)).client_transport()).http)
    received = []
    with pytest.raises(ConnectionLost):
        for message in transport.stream(JOB_ID, 0):
            received.append(message.id)
    assert [i for i in received if i] == ["1", "2"]


def test_unreachable_is_a_lost_connection() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(ConnectionLost):
        list(transport_for(refuse).stream(JOB_ID, 0))
    with pytest.raises(ConnectionLost):
        transport_for(refuse).poll(JOB_ID, 0)


def test_poll_asks_for_events_after_an_id_as_json() -> None:
    api = FakeApi(SUCCEEDED)
    page = HttpTransport(Client(transport=api.client_transport()).http).poll(JOB_ID, 4)
    assert [(e.id, e.type) for e in page.events] == [(5, "ConversionProgressed"), (6, "ConversionSucceeded")]
    assert page.job["status"] == "succeeded"
    request = api.requests[0]
    assert request.url.path == f"{BASE}/events" and request.url.params["after"] == "4"
    assert request.headers["accept"] == "application/json"


@pytest.mark.parametrize(
    "unlisted",
    [
        httpx.Response(404, json={"code": "E104"}),
        httpx.Response(406),
        httpx.Response(200, text=": open\n\n", headers={"content-type": "text/event-stream"}),
    ],
)
def test_without_the_events_poll_the_state_alone_is_polled_from_then_on(unlisted) -> None:
    asked = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if request.url.path.endswith("/events"):
            return unlisted
        return httpx.Response(200, json={"status": "stored"})

    transport = transport_for(handler)
    assert transport.poll(JOB_ID, 3).events is None and transport.poll(JOB_ID, 3).job == {"status": "stored"}
    assert asked == [f"{BASE}/events", BASE, BASE]


def test_poll_failures_and_an_ended_job() -> None:
    with pytest.raises(ConnectionLost):
        transport_for(answering(httpx.Response(502))).poll(JOB_ID, 0)
    ended = transport_for(
        lambda r: (
            httpx.Response(204)
            if r.url.path.endswith("/events")
            else httpx.Response(200, json={"status": "failed"})
        )
    )
    assert ended.poll(JOB_ID, 9).events == [] and ended.poll(JOB_ID, 9).job == {"status": "failed"}


def test_the_page_shape() -> None:
    page = parse_page(
        {
            "events": [{"id": 3, "event": "UploadStored", "data": {"data": {"x": 1}}}],
            "job": {"status": "stored"},
        }
    )
    assert page.events[0].id == 3 and page.events[0].data == {"x": 1} and page.job["status"] == "stored"


def test_client_events_resume_after_cuts_with_every_event_once() -> None:
    api, sleeps, states = FakeApi(SUCCEEDED, cuts=(2, 0, 1)), [], []
    with Client(transport=api.client_transport(), sleep=sleeps.append, rng=lambda: 0.5) as client:
        events = list(client.events(JOB_ID, on_state=states.append))
    assert [e.id for e in events] == [1, 2, 3, 4, 5, 6]
    assert [r.headers.get("last-event-id") for r in api.requests] == [None, "2", "2", "3"]
    assert sleeps == [1.0, 2.0, 1.0]  # the connection cut before any event counts as a failure
    assert states and states[0]["status"] == "succeeded"


@pytest.mark.parametrize("listable", [True, False])
def test_client_events_fall_back_to_polling_when_the_stream_is_down(listable: bool) -> None:
    api, sleeps, notices = FakeApi(SUCCEEDED, sse_down=True, listable=listable), [], []
    with Client(transport=api.client_transport(), sleep=sleeps.append, rng=lambda: 0.5) as client:
        events = list(client.events(JOB_ID, on_notice=notices.append))
    assert [e.id for e in events] == ([1, 2, 3, 4, 5, 6] if listable else [])
    assert notices == [BACKUP_NOTICE] and sleeps[:10] == [1, 2, 4, 8, 16, 30, 30, 30, 30, 30]
    assert sleeps[10:] == ([] if listable else [2.0, 2.0])  # two failed event polls, then the state


def test_the_client_creates_one_session_and_sends_it_as_a_bearer_token(monkeypatch) -> None:
    monkeypatch.delenv("DOCLING_JOBS_TOKEN", raising=False)
    api = FakeApi(SUCCEEDED)
    with Client(transport=api.client_transport(), sleep=lambda s: None) as client:
        client.submit(Path(__file__))
        client.status(JOB_ID)
        list(client.events(JOB_ID))
    assert api.sessions_created == 1
    assert {r.headers["authorization"] for r in api.requests} == {f"Bearer {SESSION_ID}"}


def test_a_given_token_is_used_without_creating_a_session(monkeypatch) -> None:
    monkeypatch.setenv("DOCLING_JOBS_TOKEN", SESSION_ID)
    api = FakeApi(SUCCEEDED)
    with Client(transport=api.client_transport()) as client:
        client.status(JOB_ID)
    assert api.sessions_created == 0 and api.requests[0].headers["authorization"] == f"Bearer {SESSION_ID}"
