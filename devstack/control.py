"""Commands that work from the state dir alone: down, status, clean (no Stack object needed)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections.abc import Sequence

from devstack.cluster import MAX_NODES, node_names
from devstack.components import ALL, stop_policy
from devstack.errors import StackError
from devstack.layout import LAUNCHER, Layout
from devstack.ports import Ports
from devstack.postgres import external_root
from devstack.proc import PidRecord, terminate
from devstack.supervision import read_history

LAUNCHER_STOP_TIMEOUT = 300.0
LEFTOVER_STOP_TIMEOUT = 15.0
RESTART_TIMEOUT = 240.0  # stop (15 s) plus the slowest start (the MCP server, 180 s), with room
RESTART_REQUEST = "restart.request"  # in run/: the name of the component the launcher should restart
RESTART_RESULT = "restart.result"  # in run/: "ok", or "failed: <why>", written by the launcher
# the first NATS node is "nats"; the others of a cluster come right after it
KNOWN: tuple[str, ...] = tuple(
    n for name in ALL for n in (node_names(MAX_NODES) if name == "nats" else (name,))
)


def live_launcher(layout: Layout) -> PidRecord | None:
    """The launcher recorded in the state dir, if it still runs."""
    record = PidRecord.read(layout.pid_file(LAUNCHER))
    return record if record is not None and record.alive() else None


def live_components(layout: Layout, names: Sequence[str] = KNOWN) -> dict[str, PidRecord]:
    """Components whose pid file names a process that still runs."""
    records = {name: PidRecord.read(layout.pid_file(name)) for name in names}
    return {name: r for name, r in records.items() if r is not None and r.alive()}


def down(layout: Layout) -> int:
    """Stop a running stack: signal its launcher, then stop anything its pid files still name."""
    done = _stop_launcher(layout) + _stop_leftovers(layout)
    for path in (layout.pid_file(LAUNCHER), layout.stack_info):
        path.unlink(missing_ok=True)
    print("\n".join(done) if done else f"nothing is running (state dir {layout.home})")
    return 0


def status(layout: Layout) -> int:
    """Print what runs, with pids and ports, and what the supervisor restarted or gave up on."""
    names = _recorded_components(layout)
    launcher, running = live_launcher(layout), live_components(layout, names)
    if launcher is None and not running:
        print(f"no stack is running (state dir {layout.home})")
        return 0
    print(f"state dir {layout.home}")
    print(f"  {LAUNCHER:<12} " + (f"running (pid {launcher.pid})" if launcher else "not running"))
    ports, history = _recorded_ports(layout), read_history(layout)
    for name in names:
        if layout.pid_file(name).exists() or name in history:
            state = _state(running[name].pid if name in running else None, history.get(name))
            print(f"  {name:<12} {state}{_port_note(name, ports)}{_history_note(history.get(name))}")
    return 0


def _state(pid: int | None, record: dict | None) -> str:
    """``running (pid N)``; ``starting (pid N)`` while a restart waits for ready; else the
    supervisor's word (``restarting``, ``failed``) or ``not running``."""
    restarting = record is not None and record["state"] == "restarting"
    if pid:
        return f"{'starting' if restarting else 'running'} (pid {pid})"
    return str(record["state"]) if record is not None else "not running"


def _history_note(record: dict | None) -> str:
    """``  restarts 2, last exit signal SIGKILL at 20:31:07, last restart 20:31:09``."""
    if not record:
        return ""
    parts = [f"restarts {record['restarts']}"]
    if record.get("last_exit"):
        parts.append(f"last exit {record['last_exit']} at {_clock(record['last_exit_at'])}")
    if record.get("last_restart_at"):
        parts.append(f"last restart {_clock(record['last_restart_at'])}")
    return "  " + ", ".join(parts)


def _clock(wall: float | None) -> str:
    return "?" if wall is None else time.strftime("%H:%M:%S", time.localtime(wall))


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
    for name in reversed(KNOWN):
        record = PidRecord.read(layout.pid_file(name))
        if record is not None and record.alive():
            sig, group = stop_policy(name)
            killed = terminate(record.pid, sig=sig, group=group, timeout=LEFTOVER_STOP_TIMEOUT)
            done.append(f"{'killed' if killed else 'stopped'} leftover {name} (pid {record.pid})")
        layout.pid_file(name).unlink(missing_ok=True)
    return done


def _recorded_components(layout: Layout) -> tuple[str, ...]:
    """Every component the running stack has (copies and NATS cluster nodes included), or the
    known ones."""
    try:
        recorded = tuple(json.loads(layout.stack_info.read_text())["components"])
    except (OSError, ValueError, KeyError):
        return KNOWN
    nodes = tuple(n for n in KNOWN if n.startswith("nats-") and layout.pid_file(n).exists())
    return tuple(dict.fromkeys((*recorded, *nodes)))


def recorded_ports(layout: Layout) -> Ports | None:
    """The ports of the stack that runs from this state dir, as it recorded them."""
    ports = _recorded_ports(layout)
    return Ports(**ports) if ports else None


def _recorded_ports(layout: Layout) -> dict[str, int]:
    try:
        info = json.loads(layout.stack_info.read_text())
        return {**info["ports"], **{n["name"]: n["client"] for n in info.get("nats_nodes", [])}}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _port_note(name: str, ports: dict[str, int]) -> str:
    field = "redis" if name == "valkey" else name
    return f"  127.0.0.1:{ports[field]}" if field in ports else ""


def restart(layout: Layout, name: str) -> int:
    """Ask the running launcher to stop one component and start it again; wait until it is ready."""
    if live_launcher(layout) is None:
        print(f"no launcher runs from {layout.home}; `make up` starts the stack")
        return 1
    result = layout.run / RESTART_RESULT
    result.unlink(missing_ok=True)
    request = layout.run / (RESTART_REQUEST + ".tmp")
    request.write_text(name)
    request.rename(layout.run / RESTART_REQUEST)  # the launcher never reads half a name
    deadline = time.monotonic() + RESTART_TIMEOUT
    while not result.exists():
        if time.monotonic() > deadline or live_launcher(layout) is None:
            print(f"{name}: the launcher did not answer within {RESTART_TIMEOUT:.0f} s")
            return 1
        time.sleep(0.1)
    outcome = result.read_text().strip()
    print(f"{name}: restarted" if outcome == "ok" else f"{name}: {outcome}")
    return 0 if outcome == "ok" else 1


def take_restart_request(layout: Layout) -> str | None:
    """For the launcher: the component a `restart` asked for, if any (the request is consumed)."""
    request = layout.run / RESTART_REQUEST
    try:
        name = request.read_text().strip()
    except OSError:
        return None
    request.unlink(missing_ok=True)
    return name


def answer_restart(layout: Layout, outcome: str) -> None:
    (layout.run / RESTART_RESULT).write_text(outcome + "\n")
