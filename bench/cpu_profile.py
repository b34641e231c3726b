"""CPU seconds each component of a running stack spends, read from /proc (Linux only).

Every component runs in its own process group (devstack), so a component's CPU is the sum over the
processes of its group: the MCP server's forkserver and conversion workers are shown as `mcp workers`.
"""

from __future__ import annotations

import os
from pathlib import Path

from devstack import Stack

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, int, float] | None:
    """(parent, process group, utime + stime in seconds) of a live process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
    return int(fields[1]), int(fields[2]), (int(fields[11]) + int(fields[12])) / TICKS


def snapshot(stack: Stack) -> dict[str, float]:
    """CPU seconds so far per component (processes alive now; a worker replaced meanwhile is lost).

    A process counts for a component when it is in the component's process group, or a child of
    its main process (PostgreSQL's backends start sessions of their own).
    """
    leaders = {pid: name for name in stack.components if (pid := stack.pid(name)) is not None}
    totals: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or (stat := _stat(pid := int(entry.name))) is None:
            continue
        parent, group, seconds = stat
        name = leaders.get(group) or leaders.get(parent)
        if name is not None:
            if name == "mcp" and pid not in leaders:
                name = "mcp workers"
            totals[name] = totals.get(name, 0.0) + seconds
    times = os.times()
    totals["bench client"] = times.user + times.system  # this process: it shares the two cores
    return totals


def report(before: dict[str, float], after: dict[str, float], wall_s: float, jobs: int) -> str:
    """A table: CPU seconds per component during the interval, per job, and share of one core."""
    used = {name: after.get(name, 0.0) - before.get(name, 0.0) for name in after}
    lines = [
        f"CPU during the burst ({wall_s:.2f} s wall, {jobs} jobs; both cores = {2 * wall_s:.2f} s):",
        f"  {'component':<14}{'cpu s':>8}{'ms/job':>9}{'% of 1 core':>13}",
    ]
    for name, seconds in sorted(used.items(), key=lambda item: -item[1]):
        lines.append(f"  {name:<14}{seconds:8.2f}{seconds / jobs * 1000:9.1f}{seconds / wall_s * 100:12.0f}%")
    total = sum(used.values())
    lines.append(f"  {'total':<14}{total:8.2f}{total / jobs * 1000:9.1f}{total / wall_s * 100:12.0f}%")
    return "\n".join(lines)
