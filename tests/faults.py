"""What the fault tests and bench/soak.py share: a private stack, sessions, submitting through faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import pytest

from devstack import Ports, Stack
from devstack.layout import REPO_ROOT
from devstack.ports import free_ports
from tests.documents import MAKERS, make_corrupt_docx
from tests.limits import lift_owner_limits, lift_rate_limits
from tests.waiting import wait_for

# as the session stack (tests/conftest.py): a SIGKILLed worker's message comes back within seconds,
# a circuit opened by an outage half-opens after 3 s, a deferred job retries after 1 s
FAULT_ENV = {
    "NATS_ACK_WAIT_S": "6",
    "CONVERTER_BREAKER_RESET_TIMEOUT_S": "3",
    "CONVERTER_RETRY_DELAY_S": "1",
    "CONVERTER_WAIT_POLL_S": "0.5",
}


@contextmanager
def private_stack(home: Path, env: dict[str, str] | None = None, **options: object) -> Iterator[Stack]:
    """A whole stack of its own on free ports, with FAULT_ENV, no rate or owner limits and then
    ``env``, for as long as the block runs (restarted components get the same environment);
    purged at the end."""
    settings = dict(FAULT_ENV)
    lift_rate_limits(settings)
    lift_owner_limits(settings)
    settings.update(env or {})
    with pytest.MonkeyPatch.context() as env:
        for name, value in settings.items():
            env.setenv(name, value)
        stack = Stack(home, Ports.free(), free_cluster_ports=True, **options)  # type: ignore[arg-type]
        try:
            stack.start()
            yield stack
        finally:
            stack.purge()


def client(base_url: str) -> httpx.Client:
    """A client in a new session of its own."""
    token = httpx.post(f"{base_url}/api/v1/sessions", timeout=30).json()["session_id"]
    return httpx.Client(base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {token}"})


def submit(api: httpx.Client, path: Path, timeout: float = 60.0) -> str:
    """Submit a document as a well-behaved client does through an outage: a 503 (a dependency is
    down, E503) is retried; any other refusal fails the test. Returns the job id."""

    def accepted() -> str | None:
        with path.open("rb") as handle:
            response = api.post("/api/v1/jobs", files={"file": (path.name, handle)})
        if response.status_code == 503:
            return None
        assert response.status_code == 202, (response.status_code, response.text)
        return str(response.json()["job_id"])

    return wait_for(
        accepted, timeout, f"{path.name} to be accepted", every=0.5, tolerate=(httpx.TransportError,)
    )


KINDS = ("md", "docx", "html", "md", "docx", "broken")  # one in six fails (E205)


def mixed_documents(folder: Path, count: int, offset: int = 0) -> list[Path]:
    """``count`` unique documents: Markdown, DOCX, HTML, and every sixth a corrupt DOCX."""
    paths = []
    for number in range(offset, offset + count):
        kind = KINDS[number % len(KINDS)]
        if kind == "broken":
            paths.append(make_corrupt_docx(folder / f"doc{number}.docx"))
        else:
            paths.append(MAKERS[kind](folder / f"doc{number}.{kind}"))
    return paths


class ServiceProcesses:
    """Service processes of a test's own (``python -m services.<module>`` with extra settings),
    each in its own process group, all SIGKILLed by ``stop_all``."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.running: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []

    def start(self, module: str, **settings: str) -> str:
        """Start one and wait until its /health answers 200; returns its base URL."""
        port = free_ports(1)[0]
        log_path = self.logs / f"{module}-{port}.log"
        log = log_path.open("wb")
        env = {**os.environ, **self.env, f"{module.upper()}_PORT": str(port), **settings}
        process = subprocess.Popen([sys.executable, "-m", f"services.{module}"], env=env, cwd=REPO_ROOT,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        self.running.append((process, log))
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            assert process.poll() is None, log_path.read_text(errors="replace")[-3000:]
            return httpx.get(f"{url}/health", timeout=2).status_code == 200

        wait_for(healthy, 60, f"{module} on {port} to be healthy", every=0.2, tolerate=(httpx.HTTPError,))
        return url

    def stop_all(self) -> None:
        for process, log in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
            log.close()
        self.running.clear()


@contextmanager
def without(stack: Stack, *components: str) -> Iterator[None]:
    """Every copy of these components stopped for the block (a test's own take their place), then
    started again."""
    names = [name for name in stack.components if name.rsplit("-", 1)[0] in components or name in components]
    for name in names:
        stack.stop_component(name)
    try:
        yield
    finally:
        for name in names:
            stack.start_component(name)
