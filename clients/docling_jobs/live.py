"""Follow one job's events to its end: SSE with reconnection, then polling. No I/O of its own.

Rules:
- Every job event reaches the caller exactly once and in id order: an event is passed on only if its
  id is above the last one passed on (ids are strictly increasing per job), across reconnections,
  replays and polling alike.
- A lost connection (``ConnectionLost``: network error, server error, stream ended before the
  terminal event) waits per ``backoff`` and reconnects from the last id seen (``Last-Event-ID``).
  The schedule restarts after a connection that delivered a new event.
- ``JobOver`` (HTTP 204) or a terminal event ends the iteration.
- After 10 failed reconnections: the notice "Using backup connection", then a poll every 2 s until
  the job state is final and every event up to its ``last_event_id`` was passed on (or, when the
  server cannot list events, until the state alone is final). A failed poll waits 2 s and polls again.
- A ``sync`` message (the job state after replay, plus a replay verdict) and every polled state go
  to ``on_state``, never into the event sequence. Messages without an integer id (comments,
  heartbeats) are skipped; unknown event types with an id are passed on like any job event.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any, Protocol

from docling_jobs.backoff import Random, ReconnectionManager
from docling_jobs.events import JOB_EVENT_TYPES, JobEvent, is_over

SYNC = "sync"
BACKUP_NOTICE = "Using backup connection"
POLL_INTERVAL_S = 2.0


class ConnectionLost(Exception):
    """The stream or poll failed in a way worth retrying."""


class JobOver(Exception):
    """The server says the job's stream has nothing more (HTTP 204)."""


@dataclass(frozen=True)
class SseMessage:
    event: str
    id: str
    data: str


@dataclass(frozen=True)
class Poll:
    """One poll: the events after the asked id (None: the server cannot list them) and the state."""

    events: list[JobEvent] | None
    job: dict[str, Any]


class Transport(Protocol):
    def stream(self, job_id: str, after: int) -> Generator[SseMessage, None, None]: ...

    def poll(self, job_id: str, after: int) -> Poll: ...


def sync_state(data: str) -> dict[str, Any] | None:
    """The job state carried by a ``sync`` message: its ``job`` object if it has one, else itself."""
    try:
        body = json.loads(data)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    return body["job"] if isinstance(body.get("job"), dict) else body


def decode(message: SseMessage) -> JobEvent | None:
    """The job event in an SSE message, or None when it is not one (no integer id, no data)."""
    try:
        event_id = int(message.id)
    except (TypeError, ValueError):
        return None
    try:
        envelope = json.loads(message.data)
    except ValueError:
        envelope = None
    if isinstance(envelope, dict):
        return JobEvent(event_id, message.event, envelope)
    if message.event in JOB_EVENT_TYPES:  # a known event we cannot read: reconnect and have it replayed
        raise ConnectionLost(f"unreadable {message.event} event {event_id}")
    return None


class LiveEvents:
    """Iterate over it to get a job's events; see the module docstring for the rules."""

    def __init__(
        self,
        transport: Transport,
        job_id: str,
        after: int = 0,
        *,
        on_state: Callable[[dict[str, Any]], None] | None = None,
        on_notice: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Random = random.random,
        poll_interval_s: float = POLL_INTERVAL_S,
    ) -> None:
        self.transport, self.job_id, self.last_id = transport, job_id, after
        self._on_state = on_state or (lambda job: None)
        self._on_notice = on_notice or (lambda text: None)
        self._sleep, self._rng, self._poll_interval_s = sleep, rng, poll_interval_s

    def __iter__(self) -> Iterator[JobEvent]:
        over = yield from self._follow_stream()
        if not over:
            self._on_notice(BACKUP_NOTICE)
            yield from self._follow_polls()

    def _follow_stream(self) -> Generator[JobEvent, None, bool]:
        """SSE until the job is over (True) or the reconnection schedule is used up (False)."""
        manager = ReconnectionManager(self._rng)
        while True:
            try:
                with closing(self.transport.stream(self.job_id, self.last_id)) as messages:
                    for event in self._fresh(self._from_stream(messages)):
                        manager.reset()
                        yield event
                        if event.terminal:
                            return True
            except JobOver:
                return True
            except ConnectionLost:
                pass
            wait = manager.next_delay()
            if wait is None:
                return False
            self._sleep(wait)

    def _from_stream(self, messages: Iterable[SseMessage]) -> Iterator[JobEvent]:
        for message in messages:
            if message.event == SYNC:
                state = sync_state(message.data)
                if state is not None:
                    self._on_state(state)
                continue
            event = decode(message)
            if event is not None:
                yield event

    def _follow_polls(self) -> Iterator[JobEvent]:
        """Poll every ``poll_interval_s`` until the job is over and nothing is left to pass on."""
        while True:
            try:
                page = self.transport.poll(self.job_id, self.last_id)
            except ConnectionLost:
                self._sleep(self._poll_interval_s)
                continue
            self._on_state(page.job)
            for event in self._fresh(sorted(page.events or [], key=lambda e: e.id)):
                yield event
                if event.terminal:
                    return
            if self._finished(page):
                return
            self._sleep(self._poll_interval_s)

    def _finished(self, page: Poll) -> bool:
        if not is_over(page.job):
            return False
        return page.events is None or self.last_id >= int(page.job.get("last_event_id") or 0)

    def _fresh(self, events: Iterable[JobEvent]) -> Iterator[JobEvent]:
        """The events above the last id passed on, recording each as passed on."""
        for event in events:
            if event.id > self.last_id:
                self.last_id = event.id
                yield event
