"""Faults of the infrastructure and of whole services with jobs in flight, on the session stack: each
breaks something for real (SIGKILL, a server stopped), brings it back through the stack's own API, and
then every job must have exactly one outcome, a gap-free history, and none may be stuck. The
documents that can be converted must all succeed: a fault delays jobs, it does not fail them."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest

from devstack import Stack
from tests.documents import make_long_docx
from tests.faults import KINDS, client, mixed_documents, submit
from tests.outcomes import Tally, audit_all, settle, state
from tests.waiting import wait_for

SETTLE_S = 120.0


def copies(stack: Stack, component: str) -> list[str]:
    return [name for name in stack.components if name.rsplit("-", 1)[0] == component or name == component]


def in_flight(api: httpx.Client, folder: Path) -> str:
    """A job that takes docling seconds, once it is converting: the fault surely hits a job mid-way."""
    job_id = submit(api, make_long_docx(folder / "long.docx"))
    wait_for(lambda: (state(api, job_id) or {}).get("status") == "converting", 60, "the long job to convert")
    return job_id


def expect_all_converted(tally: Tally, mixed: int) -> None:
    """Every job sound; the long one and the convertible mixed documents succeeded."""
    broken = sum(1 for number in range(mixed) if KINDS[number % len(KINDS)] == "broken")
    assert tally.sound, tally.report()
    assert (tally.succeeded, dict(tally.failed)) == (mixed + 1 - broken, {"E205": broken}), tally.report()


def kill_and_wait(stack: Stack, names: list[str], *, group: bool = True) -> None:
    for name in names:
        pid = stack.pid(name)
        assert pid is not None, f"{name} is not running"
        os.killpg(pid, signal.SIGKILL) if group else os.kill(pid, signal.SIGKILL)
    wait_for(lambda: all(stack.exited().get(n) == -9 for n in names), 15, f"{names} to die")


@pytest.mark.parametrize("component", ["ingest", "progress", "converter"])
def test_every_copy_of_a_service_killed_with_jobs_in_flight(
    stack: Stack, component: str, tmp_path: Path
) -> None:
    names = copies(stack, component)
    with client(stack.urls.api) as api:
        jobs = [submit(api, path) for path in mixed_documents(tmp_path, 6)]
        jobs.append(in_flight(api, tmp_path))
        try:
            kill_and_wait(stack, names)
            jobs += [submit(api, path) for path in mixed_documents(tmp_path, 6, offset=6)]  # while it is gone
        finally:
            for name in names:
                stack.start_component(name)
        settle(api, jobs, SETTLE_S)
        expect_all_converted(audit_all(api, jobs), len(jobs) - 1)


def test_nats_killed_and_restarted_with_jobs_in_flight(stack: Stack, tmp_path: Path) -> None:
    with client(stack.urls.api) as api:
        jobs = [submit(api, path) for path in mixed_documents(tmp_path, 9)]
        jobs.append(in_flight(api, tmp_path))
        try:
            kill_and_wait(stack, ["nats"])
        finally:
            stack.start_component("nats")  # the same store: every acknowledged event is on disk
        jobs += [submit(api, path) for path in mixed_documents(tmp_path, 3, offset=9)]
        settle(api, jobs, SETTLE_S)
        expect_all_converted(audit_all(api, jobs), len(jobs) - 1)


def test_the_mcp_servers_main_process_killed_with_jobs_in_flight(stack: Stack, tmp_path: Path) -> None:
    """SIGKILL of the main process alone: its workers die with it (PR_SET_PDEATHSIG), the port is
    freed, and a new server takes the jobs over."""
    with client(stack.urls.api) as api:
        jobs = [submit(api, path) for path in mixed_documents(tmp_path, 6)]
        jobs.append(in_flight(api, tmp_path))
        try:
            kill_and_wait(stack, ["mcp"], group=False)
        finally:
            stack.start_component("mcp")
        jobs += [submit(api, path) for path in mixed_documents(tmp_path, 6, offset=6)]
        settle(api, jobs, SETTLE_S)
        expect_all_converted(audit_all(api, jobs), len(jobs) - 1)


def test_postgres_stopped_while_the_converter_and_progress_write(stack: Stack, tmp_path: Path) -> None:
    with client(stack.urls.api) as api:
        jobs = [submit(api, path) for path in mixed_documents(tmp_path, 9)]
        jobs.append(in_flight(api, tmp_path))
        try:
            stack.stop_component("postgres")
            jobs += [submit(api, path) for path in mixed_documents(tmp_path, 3, offset=9)]  # needs NATS only
        finally:
            stack.start_component("postgres")
        settle(api, jobs, SETTLE_S)
        expect_all_converted(audit_all(api, jobs), len(jobs) - 1)
