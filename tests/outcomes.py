"""Counting job outcomes through the public API, as a client sees them (fault tests and bench/soak.py).

A job's history is read over SSE once the job has ended (the stream ends after the terminal event),
and with the JSON polling form while it has not (an SSE stream would wait for it). Either way the
ids must be 1, 2, 3, ... with no number missing (a gap) or sent twice (a repeat), and exactly one
event must be terminal: none is *lost*, two or more *duplicated*; a job still not ended after the
settle period is *stuck*.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx
from httpx_sse import connect_sse

from contracts.events import TERMINAL_EVENT_TYPES
from contracts.statuses import TERMINAL_STATUSES
from tests.waiting import wait_for


@dataclass(frozen=True)
class JobAudit:
    """What the API says about one accepted job."""

    job_id: str
    status: str  # "missing" when the API no longer knows the job
    code: str | None  # error code of a failed or rejected job
    ids: tuple[int, ...]  # SSE ids, in the order received
    terminals: tuple[str, ...]  # the terminal event types among them

    @property
    def ended(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def gap(self) -> bool:
        return sorted(set(self.ids)) != list(range(1, len(set(self.ids)) + 1))

    @property
    def repeat(self) -> bool:
        return len(self.ids) != len(set(self.ids))

    @property
    def lost(self) -> bool:
        return not self.terminals and (self.ended or self.status == "missing")

    @property
    def duplicated(self) -> bool:
        return len(self.terminals) > 1

    @property
    def stuck(self) -> bool:
        return not self.ended and self.status != "missing"

    @property
    def sound(self) -> bool:
        return self.ended and len(self.terminals) == 1 and not (self.gap or self.repeat)


def state(api: httpx.Client, job_id: str) -> dict | None:
    response = api.get(f"/api/v1/jobs/{job_id}")
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.json()


def history(api: httpx.Client, job_id: str, ended: bool) -> list[tuple[int, str]]:
    """(id, event type) of every event of the job, from the start."""
    if not ended:
        body = api.get(f"/api/v1/jobs/{job_id}/events", headers={"Accept": "application/json"}).json()
        return [(int(e["id"]), e["event"]) for e in body["events"]]
    with connect_sse(api, "GET", f"/api/v1/jobs/{job_id}/events", timeout=httpx.Timeout(30)) as source:
        source.response.raise_for_status()
        # a ``sync`` event has no id of its own (the last id carries over, as SSE says): not an event
        return [(int(sse.id), sse.event) for sse in source.iter_sse() if sse.event != "sync" and sse.data]


def audit(api: httpx.Client, job_id: str) -> JobAudit:
    found = state(api, job_id)
    if found is None:
        return JobAudit(job_id, "missing", None, (), ())
    events = history(api, job_id, found["status"] in TERMINAL_STATUSES)
    error = found.get("error") or {}
    return JobAudit(
        job_id,
        found["status"],
        error.get("code"),
        tuple(i for i, _ in events),
        tuple(e for _, e in events if e in TERMINAL_EVENT_TYPES),
    )


def settle(api: httpx.Client, job_ids: Iterable[str], timeout: float) -> None:
    """Wait until every job has ended, at most ``timeout`` seconds (then the rest count as stuck)."""
    pending = set(job_ids)

    def all_ended() -> bool:
        for job_id in list(pending):
            found = state(api, job_id)
            if found is None or found["status"] in TERMINAL_STATUSES:
                pending.discard(job_id)
        return not pending

    try:
        wait_for(all_ended, timeout, "every job to end", every=0.5, tolerate=(httpx.HTTPError,))
    except AssertionError:
        return


@dataclass
class Tally:
    """The outcome counts of a run."""

    submitted: int = 0
    succeeded: int = 0
    cancelled: int = 0
    failed: Counter[str] = field(default_factory=Counter)  # by error code (failed and rejected)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    gap: list[str] = field(default_factory=list)
    repeat: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, audits: Iterable[JobAudit]) -> Tally:
        tally = cls()
        for job in audits:
            tally.add(job)
        return tally

    def add(self, job: JobAudit) -> None:
        self.submitted += 1
        if job.status == "succeeded":
            self.succeeded += 1
        elif job.status == "cancelled":
            self.cancelled += 1
        elif job.ended:
            self.failed[job.code or job.status] += 1
        for name in ("lost", "duplicated", "stuck", "gap", "repeat"):
            if getattr(job, name):
                getattr(self, name).append(job.job_id)

    @property
    def sound(self) -> bool:
        return not (self.lost or self.duplicated or self.stuck or self.gap or self.repeat)

    def report(self) -> str:
        lines = [
            f"submitted   {self.submitted}",
            f"succeeded   {self.succeeded}",
            f"failed      {sum(self.failed.values())} {json.dumps(dict(sorted(self.failed.items())))}",
            f"cancelled   {self.cancelled}",
        ]
        for name in ("lost", "duplicated", "stuck", "gap", "repeat"):
            found = getattr(self, name)
            lines.append(f"{name:<11} {len(found)}" + (f" {found[:5]}" if found else ""))
        return "\n".join(lines)


def audit_all(api: httpx.Client, job_ids: Iterable[str]) -> Tally:
    return Tally.of(audit(api, job_id) for job_id in job_ids)
