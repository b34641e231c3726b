"""Every command of CLAUDE.md's ```sh runbook blocks runs, exactly as written, against the
session's real stack and succeeds: the manual's commands cannot rot into `redis-cli: not found`."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from devstack import Stack
from tests.documents import make_markdown
from tests.e2e.helpers import new_session
from tests.manual import MANUAL, ROOT, runbook_commands
from tests.waiting import wait_for

# what an operator's shell would not have: the variables that point the tools elsewhere
FOREIGN = ("REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "DATABASE_URL", "MAKEFLAGS", "MAKELEVEL")


@pytest.fixture(scope="module")
def finished_job(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(session id, id of a job that succeeded in it): what the cards' `SESSION` and `JOB` name."""
    session = new_session(stack.urls.api)
    path = make_markdown(tmp_path_factory.mktemp("runbook") / "runbook.md")
    with httpx.Client(base_url=stack.urls.api, headers={"Authorization": f"Bearer {session}"}) as api:
        with path.open("rb") as handle:
            job = api.post("/api/v1/jobs", files={"file": (path.name, handle)}).json()["job_id"]
        status = wait_for(
            lambda: (
                api.get(f"/api/v1/jobs/{job}").json()["status"] in {"succeeded", "failed"}
                and api.get(f"/api/v1/jobs/{job}").json()["status"]
            ),
            timeout=120,
            what="the runbook's job to finish",
        )
    assert status == "succeeded"
    return session, job


def run(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_manual_has_runbook_commands() -> None:
    commands = runbook_commands(MANUAL.read_text())
    assert len(commands) >= 20
    assert any(c.startswith("make redis-cli") for c in commands)
    assert any(c.startswith("make psql") for c in commands)


def test_every_runbook_command_succeeds_on_the_stack(stack: Stack, finished_job: tuple[str, str]) -> None:
    session, job = finished_job
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN}
    env |= {"DOCLING_JOBS_HOME": str(stack.home), "SESSION": session, "JOB": job}
    commands = runbook_commands(MANUAL.read_text())
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(commands, pool.map(lambda c: run(c, env), commands), strict=True))
    failed = {
        command: (result.returncode, (result.stderr or result.stdout)[-400:])
        for command, result in results.items()
        if result.returncode != 0
    }
    assert failed == {}


def test_a_failing_command_is_caught(stack: Stack) -> None:
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN} | {"DOCLING_JOBS_HOME": str(stack.home)}
    assert run("make redis-cli ARGS='NOSUCHCOMMAND'", env).returncode != 0
    assert run("make logs C=nosuchcomponent", env).returncode != 0
    assert run(f"DOCLING_JOBS_HOME={Path('/nonexistent')} make -s health", env).returncode != 0
