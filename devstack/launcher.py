"""`up`: run the stack in the foreground, or hand it to a detached launcher and wait for ready."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from devstack.components import Context, build
from devstack.control import answer_restart, live_components, live_launcher, take_restart_request
from devstack.errors import StackError
from devstack.layout import HOME_ENV, LAUNCHER, REPO_ROOT, Layout
from devstack.ports import Ports, ensure_free
from devstack.proc import PidRecord, log_line
from devstack.stack import Stack, StackCancelled
from devstack.supervision import RestartPolicy
from devstack.supervisor import Supervisor

MONITOR_INTERVAL = 0.5


def up_foreground(stack: Stack, ready_fd: int | None = None) -> int:
    """Start, print the addresses, run until SIGINT/SIGTERM, stop. ready_fd gets 'ready' or 'failed: ...'."""
    if (other := _refuse_if_running(stack.layout)) is not None:
        print(other, file=sys.stderr)
        _report(ready_fd, f"failed: {other}")
        return 1
    stack.layout.create()
    PidRecord.current().write(stack.layout.pid_file(LAUNCHER))
    previous = _on_stop_signals(stack)
    try:
        return _serve(stack, ready_fd)
    finally:
        _restore_signals(previous)
        stack.layout.pid_file(LAUNCHER).unlink(missing_ok=True)


def up_detached(home: Path, ports: Ports, components: Sequence[str], nats_nodes: int = 1) -> int:
    """Start a launcher in the background and return once its stack is ready (0) or failed (1)."""
    layout = Layout(home)
    if (other := _refuse_if_running(layout)) is not None:
        print(other, file=sys.stderr)
        return 1
    try:
        _check_ports(layout, ports, components)
    except StackError as error:
        print(error, file=sys.stderr)
        return 1
    layout.create()
    child, read_fd = _spawn_launcher(layout, ports, components)
    try:
        message = _read_all(read_fd)
    except KeyboardInterrupt:
        child.send_signal(signal.SIGTERM)
        child.wait()
        return 130
    return _detached_outcome(Stack(home, ports, components, nats_nodes=nats_nodes), child, message)


def _serve(stack: Stack, ready_fd: int | None) -> int:
    try:
        stack.start()
    except StackCancelled:
        print("stopped before the stack was ready", flush=True)
        _report(ready_fd, "failed: stopped before the stack was ready")
        return 0
    except StackError as error:
        print(error, file=sys.stderr, flush=True)
        _report(ready_fd, f"failed: {error}")
        return 1
    print(banner(stack, detached=ready_fd is not None), flush=True)
    _report(ready_fd, "ready")
    _watch(stack)
    print("stopping ...", flush=True)
    stack.stop()
    print("stopped", flush=True)
    return 0


def _watch(stack: Stack) -> None:
    """Supervise until a stop signal: what exits on its own is restarted (``RestartPolicy``); an
    operator's restart request (``make restart C=...``) is carried out in turn."""
    stack.layout.supervision.unlink(missing_ok=True)  # a new stack starts with no history
    supervisor = Supervisor(stack, RestartPolicy.from_env())
    while not stack.cancelled:
        try:
            supervisor.tick()
        except StackCancelled:
            return
        if (asked := take_restart_request(stack.layout)) is not None:
            supervisor.due.pop(asked, None)  # restarted now, not again by the supervisor
            answer_restart(stack.layout, _restart(stack, asked))
        time.sleep(MONITOR_INTERVAL)


def _restart(stack: Stack, name: str) -> str:
    """Stop one component (gracefully) and start it again, waiting until it is ready."""
    print(f"restarting {name}", flush=True)
    try:
        stack.stop_component(name)
        stack.start_component(name)
    except StackError as error:
        return f"failed: {error}"
    return "ok"


def banner(stack: Stack, *, detached: bool) -> str:
    """The addresses of what runs."""
    urls, chosen = stack.urls, set(stack.components)
    lines = []
    if "api" in chosen:
        lines += [
            f"Web page:   {urls.api}/",
            f"API:        {urls.api}/api/v1",
            f"OpenAPI:    {urls.api}/schema",
        ]
    if "mcp" in chosen:
        lines.append(f"MCP server: {urls.mcp}")
    for name, label, url in (
        ("postgres", "PostgreSQL", urls.database),
        ("nats", "NATS", urls.nats),
        ("valkey", "Valkey", urls.redis),
    ):
        if name in chosen:
            lines.append(f"{label + ':':<11} {url}")
    lines.append(f"Logs:       {_display(stack.layout.logs)}/")
    lines.append("make down stops it" if detached else "Ctrl-C stops everything")
    return "\n".join(lines)


def _spawn_launcher(
    layout: Layout, ports: Ports, components: Sequence[str]
) -> tuple[subprocess.Popen[bytes], int]:
    read_fd, write_fd = os.pipe()
    argv = [
        sys.executable,
        "-m",
        "devstack",
        "up",
        "--ready-fd",
        str(write_fd),
        "--components",
        ",".join(components),
    ]
    env = {**os.environ, **ports.as_env(), HOME_ENV: str(layout.home)}
    with layout.log(LAUNCHER).open("ab") as log:
        log.write(log_line("detached launcher"))
        log.flush()
        child = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(write_fd,),
            start_new_session=True,
            cwd=REPO_ROOT,
            env=env,
        )
    os.close(write_fd)
    return child, read_fd


def _detached_outcome(stack: Stack, child: subprocess.Popen[bytes], message: str) -> int:
    if message.strip() == "ready":
        print(banner(stack, detached=True))
        return 0
    log = stack.layout.log(LAUNCHER)
    reason = message.removeprefix("failed: ").strip() or f"the launcher exited early; see {log}"
    child.wait()
    print(f"stack did not start: {reason}", file=sys.stderr)
    return 1


def _check_ports(layout: Layout, ports: Ports, components: Sequence[str]) -> None:
    ctx = Context(layout, ports, {})
    ensure_free([f for name in components for f in build(name, ctx).port_fields], ports)


def _refuse_if_running(layout: Layout) -> str | None:
    launcher = live_launcher(layout)
    if launcher is not None and launcher.pid != os.getpid():
        return (
            f"a stack is already running from {layout.home} (launcher pid {launcher.pid}); "
            "`make down` stops it"
        )
    if leftovers := live_components(layout):
        pids = ", ".join(f"{name} pid {record.pid}" for name, record in leftovers.items())
        return f"processes of an earlier stack from {layout.home} still run ({pids}); `make down` stops them"
    return None


def _on_stop_signals(stack: Stack) -> dict[int, object]:
    def handler(signum: int, frame: FrameType | None) -> None:
        stack.cancel()

    return {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}


def _restore_signals(previous: dict[int, object]) -> None:
    for sig, old in previous.items():
        signal.signal(sig, old)  # type: ignore[arg-type]


def _report(fd: int | None, message: str) -> None:
    if fd is None:
        return
    try:
        os.write(fd, (message + "\n").encode())
        os.close(fd)
    except OSError:
        pass


def _read_all(fd: int) -> str:
    chunks = []
    with os.fdopen(fd, "rb") as pipe:
        while chunk := pipe.read(4096):
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
