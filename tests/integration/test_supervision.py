"""The launcher supervises: a service killed with SIGKILL comes back, and ``status`` says so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import Ports
from devstack.layout import REPO_ROOT, Layout
from devstack.proc import PidRecord
from tests.waiting import wait_for

COMPONENTS = "nats,ingest"  # the smallest stack with a service in it


def devstack(env: dict[str, str], *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devstack", *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


@pytest.fixture
def launched(tmp_path: Path) -> Iterator[tuple[dict[str, str], Layout]]:
    """A detached launcher (the one ``make up DETACH=1`` runs) with NATS and ingest."""
    env = {**os.environ, **Ports.free().as_env(), "DOCLING_JOBS_HOME": str(tmp_path)}
    started = devstack(env, "up", "--detach", "--components", COMPONENTS)
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield env, Layout(tmp_path)
    finally:
        devstack(env, "down")


def service_pid(layout: Layout, name: str) -> int | None:
    record = PidRecord.read(layout.pid_file(name))
    return record.pid if record is not None and record.alive() else None


def test_a_killed_service_is_restarted_and_status_shows_the_restart(
    launched: tuple[dict[str, str], Layout],
) -> None:
    env, layout = launched
    first = service_pid(layout, "ingest")
    assert first is not None
    os.kill(first, signal.SIGKILL)

    def restarted() -> str | None:
        pid = service_pid(layout, "ingest")
        out = devstack(env, "status").stdout
        return (
            out
            if pid not in (None, first) and f"running (pid {pid})" in out and "restarts 1" in out
            else None
        )

    status = wait_for(restarted, 60.0, "ingest restarted by the launcher", every=0.5)
    line = next(line for line in status.splitlines() if line.strip().startswith("ingest"))
    assert "restarts 1, last exit signal SIGKILL at " in line and "last restart " in line, line
    log = layout.log("launcher").read_text()
    assert "warning: ingest exited (signal SIGKILL); restarting it in 1 s" in log
    assert "restarted ingest (restart 1)" in log

    stopped = devstack(env, "down")
    assert stopped.returncode == 0, stopped.stderr
    assert service_pid(layout, "ingest") is None and service_pid(layout, "nats") is None
    # a deliberate stop is not an exit to restart
    assert layout.log("launcher").read_text().count("restarted ") == 1
