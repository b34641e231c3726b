"""Commands that work from the state dir alone: down, status, clean (no Stack object needed)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time

from devstack.components import ALL, stop_policy
from devstack.errors import StackError
from devstack.layout import LAUNCHER, Layout
from devstack.ports import Ports
from devstack.postgres import external_root
from devstack.proc import PidRecord, terminate

LAUNCHER_STOP_TIMEOUT = 300.0
LEFTOVER_STOP_TIMEOUT = 15.0


def live_launcher(layout: Layout) -> PidRecord | None:
    """The launcher recorded in the state dir, if it still runs."""
    record = PidRecord.read(layout.pid_file(LAUNCHER))
    return record if record is not None and record.alive() else None


def live_components(layout: Layout) -> dict[str, PidRecord]:
    """Components whose pid file names a process that still runs."""
    records = {name: PidRecord.read(layout.pid_file(name)) for name in ALL}
    return {name: r for name, r in records.items() if r is not None and r.alive()}


def down(layout: Layout) -> int:
    """Stop a running stack: signal its launcher, then stop anything its pid files still name."""
    done = _stop_launcher(layout) + _stop_leftovers(layout)
    for path in (layout.pid_file(LAUNCHER), layout.stack_info):
        path.unlink(missing_ok=True)
    print("\n".join(done) if done else f"nothing is running (state dir {layout.home})")
    return 0


def status(layout: Layout) -> int:
    """Print what runs, with pids and ports."""
    launcher, running = live_launcher(layout), live_components(layout)
    if launcher is None and not running:
        print(f"no stack is running (state dir {layout.home})")
        return 0
    print(f"state dir {layout.home}")
    print(f"  {LAUNCHER:<10} " + (f"running (pid {launcher.pid})" if launcher else "not running"))
    ports = _recorded_ports(layout)
    for name in ALL:
        if layout.pid_file(name).exists():
            state = f"running (pid {running[name].pid})" if name in running else "not running"
            print(f"  {name:<10} {state}{_port_note(name, ports)}")
    return 0


def clean(layout: Layout) -> int:
    """Remove the state dir and the PostgreSQL folder it recorded, unless a stack runs."""
    launcher, running = live_launcher(layout), live_components(layout)
    if launcher is not None or running:
        pids = (
            ", ".join(f"{n} {r.pid}" for n, r in running.items())
            or f"launcher {launcher.pid if launcher else ''}"
        )
        print(f"a stack is running from {layout.home} ({pids}); run `make down` first")
        return 1
    try:
        lines = remove_state(layout)
    except StackError as error:
        print(error)
        return 1
    print("\n".join(lines) if lines else f"nothing to clean ({layout.home} does not exist)")
    return 0


def remove_state(layout: Layout) -> list[str]:
    """Delete the state dir and its external PostgreSQL data dir; what was removed."""
    if layout.home.exists() and not layout.marker.exists() and any(layout.home.iterdir()):
        raise StackError(f"refusing to remove {layout.home}: it has no {layout.marker.name} marker")
    removed = []
    for folder in (external_root(layout), layout.home):
        if folder is not None and folder.exists():
            shutil.rmtree(folder)
            removed.append(f"removed {folder}")
    return removed


def _stop_launcher(layout: Layout) -> list[str]:
    launcher = live_launcher(layout)
    if launcher is None:
        return []
    os.kill(launcher.pid, signal.SIGTERM)
    deadline = time.monotonic() + LAUNCHER_STOP_TIMEOUT
    while launcher.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    if launcher.alive():
        os.kill(launcher.pid, signal.SIGKILL)
        return [f"launcher (pid {launcher.pid}) did not stop within {LAUNCHER_STOP_TIMEOUT:.0f} s: killed it"]
    return [f"stopped the stack (launcher pid {launcher.pid}) and every component it ran"]


def _stop_leftovers(layout: Layout) -> list[str]:
    done = []
    for name in reversed(ALL):
        record = PidRecord.read(layout.pid_file(name))
        if record is not None and record.alive():
            sig, group = stop_policy(name)
            killed = terminate(record.pid, sig=sig, group=group, timeout=LEFTOVER_STOP_TIMEOUT)
            done.append(f"{'killed' if killed else 'stopped'} leftover {name} (pid {record.pid})")
        layout.pid_file(name).unlink(missing_ok=True)
    return done


def recorded_ports(layout: Layout) -> Ports | None:
    """The ports of the stack that runs from this state dir, as it recorded them."""
    ports = _recorded_ports(layout)
    return Ports(**ports) if ports else None


def _recorded_ports(layout: Layout) -> dict[str, int]:
    try:
        return dict(json.loads(layout.stack_info.read_text())["ports"])
    except (OSError, ValueError, KeyError):
        return {}


def _port_note(name: str, ports: dict[str, int]) -> str:
    field = "redis" if name == "valkey" else name
    return f"  127.0.0.1:{ports[field]}" if field in ports else ""
