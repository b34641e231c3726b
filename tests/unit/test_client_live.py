"""The reconnecting event reader against a scripted in-memory transport: no network, no waiting."""

import itertools
import json
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from docling_jobs.errors import ApiError
from docling_jobs.events import JobEvent
from docling_jobs.live import BACKUP_NOTICE, ConnectionLost, JobOver, LiveEvents, Poll, SseMessage

SCHEDULE = [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0, 30.0]  # jitter source fixed at 0.5
TYPES = [
    "JobSubmitted",
    "UploadStored",
    "ConversionStarted",
    "ConversionProgressed",
    "ConversionProgressed",
    "ConversionProgressed",
    "ConversionProgressed",
    "ConversionSucceeded",
]


def job_event(seq: int) -> JobEvent:
    return JobEvent(seq, TYPES[seq - 1], {"event_type": TYPES[seq - 1], "data": {"progress": 10 * seq}})


JOB = [job_event(seq) for seq in range(1, len(TYPES) + 1)]


def sse(*seqs: int) -> list[SseMessage]:
    return [SseMessage(JOB[s - 1].type, str(s), json.dumps(JOB[s - 1].envelope)) for s in seqs]


def sync(progress: int) -> SseMessage:
    body = {"job": {"status": "converting", "progress": progress}, "replay": {"complete": True}}
    return SseMessage("sync", "", json.dumps(body))


def state(status: str, last_event_id: int = 0) -> dict:
    return {"status": status, "progress": 0, "last_event_id": last_event_id}


@dataclass
class Serve:
    """One connection: these messages, then a drop (or a clean end)."""

    messages: list[SseMessage]
    drop: bool = True


REFUSE, OVER = "refuse", "204"


@dataclass
class FakeTransport:
    connections: list
    polls: list = field(default_factory=list)
    opened_after: list[int] = field(default_factory=list)
    polled_after: list[int] = field(default_factory=list)
    closed: int = 0

    def stream(self, job_id: str, after: int) -> Iterator[SseMessage]:
        self.opened_after.append(after)
        return self._connection(self.connections.pop(0) if self.connections else REFUSE)

    def _connection(self, outcome: object) -> Iterator[SseMessage]:
        try:
            if outcome == OVER:
                raise JobOver()
            if outcome == REFUSE:
                raise ConnectionLost("refused")
            yield from outcome.messages
            if outcome.drop:
                raise ConnectionLost("cut")
        finally:
            self.closed += 1

    def poll(self, job_id: str, after: int) -> Poll:
        self.polled_after.append(after)
        outcome = self.polls.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


@dataclass
class Run:
    transport: FakeTransport
    sleeps: list[float] = field(default_factory=list)
    states: list[dict] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def events(self, after: int = 0) -> list[JobEvent]:
        reader = LiveEvents(
            self.transport,
            "job-1",
            after,
            on_state=self.states.append,
            on_notice=self.notices.append,
            sleep=self.sleeps.append,
            rng=lambda: 0.5,
        )
        return list(reader)


def run(connections: list, polls: list | None = None) -> tuple[Run, list[JobEvent]]:
    reader = Run(FakeTransport(connections, polls or []))
    return reader, reader.events()


def test_every_event_once_in_order_across_drops_and_overlapping_replays() -> None:
    reader, events = run([Serve(sse(1, 2)), Serve([*sse(1, 2, 3), sync(30)]), Serve(sse(3, 4, 5, 6, 7, 8))])
    assert events == JOB
    assert reader.transport.opened_after == [0, 2, 3]  # Last-Event-ID: the last id seen
    assert reader.sleeps == [1.0, 1.0]  # each connection delivered news, so the schedule restarted
    assert reader.states == [{"status": "converting", "progress": 30}]
    assert reader.notices == []


def test_sync_goes_to_state_and_unknown_messages_never_fail() -> None:
    odd = [
        SseMessage("", "", ""),
        SseMessage("Mystery", "", "{}"),
        SseMessage("Mystery", "x", "{}"),
        SseMessage("Mystery", "2", "not json"),
        SseMessage("ConversionDeferred", "3", '{"data": {}}'),
    ]
    later = [SseMessage(e.type, str(e.id + 2), json.dumps(e.envelope)) for e in JOB[1:]]
    reader, events = run([Serve([*sse(1), sync(10), *odd, *later], drop=False)])
    assert [e.type for e in events] == ["JobSubmitted", "ConversionDeferred", *TYPES[1:]]
    assert [e.id for e in events] == [1, *range(3, 11)] and reader.states[0]["progress"] == 10


def test_ten_failures_in_a_row_follow_the_schedule_then_polling_finishes_the_job() -> None:
    polls = [
        ConnectionLost("down"),
        Poll([job_event(s) for s in (2, 4, 3)], state("converting", 4)),
        Poll(JOB[4:], state("succeeded", 8)),
    ]
    reader, events = run([Serve(sse(1, 2))] + [REFUSE] * 10, polls)
    assert events == JOB
    assert reader.sleeps == [*SCHEDULE, 2.0, 2.0]
    assert reader.transport.opened_after == [0] + [2] * 10  # the first connection, then 10 tries
    assert reader.transport.polled_after == [2, 2, 4]
    assert reader.notices == [BACKUP_NOTICE] == ["Using backup connection"]
    assert [s["status"] for s in reader.states] == ["converting", "succeeded"]


def test_polling_continues_until_every_event_up_to_the_last_id() -> None:
    polls = [Poll(JOB[:5], state("succeeded", 8)), Poll(JOB[5:], state("succeeded", 8))]
    reader, events = run([REFUSE] * 11, polls)
    assert events == JOB and reader.sleeps == [*SCHEDULE, 2.0]


def test_without_an_events_list_polling_follows_the_state_alone() -> None:
    polls = [Poll(None, state("converting")), Poll(None, state("succeeded", 8))]
    reader, events = run([REFUSE] * 11, polls)
    assert events == [] and [s["status"] for s in reader.states] == ["converting", "succeeded"]
    assert reader.sleeps == [*SCHEDULE, 2.0] and reader.notices == [BACKUP_NOTICE]


def test_204_ends_the_job_without_polling() -> None:
    reader, events = run([Serve(sse(1, 2, 3)), OVER])
    assert events == JOB[:3] and reader.transport.polled_after == [] and reader.notices == []


def test_a_connection_without_new_events_counts_as_a_failure() -> None:
    reader, events = run([Serve(sse(1)), Serve([*sse(1), sync(10)]), Serve(sse(1)), Serve(sse(1, 2)), OVER])
    assert events == JOB[:2] and reader.sleeps == [1.0, 2.0, 4.0, 1.0]


def test_an_unreadable_job_event_reconnects_from_the_last_good_id() -> None:
    broken = SseMessage("UploadStored", "2", "{truncated")
    reader, events = run([Serve([*sse(1), broken, *sse(3)]), Serve(sse(2, 3, 4, 5, 6, 7, 8))])
    assert events == JOB and reader.transport.opened_after == [0, 1]


def test_the_terminal_event_ends_and_closes_the_stream() -> None:
    reader, events = run([Serve(sse(1, 2, 3, 4, 5, 6, 7, 8) + sse(8))])
    assert events == JOB and reader.transport.closed == 1 and reader.sleeps == []


def test_resuming_after_an_id_sends_it_first() -> None:
    reader = Run(FakeTransport([Serve(sse(5, 6, 7, 8))]))
    assert reader.events(after=4) == JOB[4:] and reader.transport.opened_after == [4]


def test_a_refusal_by_the_api_is_not_retried() -> None:
    class Refusing(FakeTransport):
        def stream(self, job_id: str, after: int) -> Iterator[SseMessage]:
            raise ApiError(404, {"code": "E104"})

    reader = Run(Refusing([]))
    with pytest.raises(ApiError, match="E104"):
        reader.events()
    assert reader.sleeps == []


class ReplayingServer(FakeTransport):
    """Replays from the asked id, with some already-seen events first, and cuts where it is told."""

    def __init__(self, plans: list[tuple[bool, int, int]]) -> None:
        super().__init__([])
        self.plans = deque(plans)

    def stream(self, job_id: str, after: int) -> Iterator[SseMessage]:
        self.opened_after.append(after)
        refuse, overlap, count = self.plans.popleft() if self.plans else (False, 0, len(JOB))
        if refuse:
            return self._connection(REFUSE)
        start = max(0, after - overlap)
        return self._connection(Serve([*sse(*range(start + 1, min(len(JOB), after + count) + 1)), sync(0)]))

    def poll(self, job_id: str, after: int) -> Poll:
        self.polled_after.append(after)
        refuse, overlap, count = self.plans.popleft() if self.plans else (False, 0, len(JOB))
        if refuse:
            raise ConnectionLost("down")
        return Poll(JOB[max(0, after - overlap) : after + count], state("succeeded", len(JOB)))


plans = st.lists(st.tuples(st.booleans(), st.integers(0, 8), st.integers(0, 3)), max_size=40)


def schedule_sleeps(opened_after: list[int]) -> list[float]:
    """The waits the schedule asks for: it restarts after a connection that moved the last id on."""
    failures, waits = 0, []
    for this, following in itertools.pairwise(opened_after):
        failures = 0 if following > this else failures
        waits.append(SCHEDULE[failures])
        failures += 1
    return waits


@settings(max_examples=300)
@given(plans)
def test_any_pattern_of_cuts_refusals_and_replays_delivers_every_event_once_in_order(plan: list) -> None:
    reader = Run(ReplayingServer(plan))
    assert reader.events() == JOB
    stream_sleeps = schedule_sleeps(reader.transport.opened_after)
    polls = len(reader.transport.polled_after)
    assert reader.sleeps == stream_sleeps + [2.0] * max(0, polls - 1)
    assert reader.notices == ([BACKUP_NOTICE] if polls else [])
    if polls:  # given up only after exactly 10 failed reconnections in a row, all from the same id
        assert stream_sleeps[-10:] == SCHEDULE and len(set(reader.transport.opened_after[-10:])) == 1
    event(f"polled: {bool(polls)}")
