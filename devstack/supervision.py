"""Restart policy of the launcher, like systemd's ``Restart=on-failure`` (pure, injected clock).

A component that exits on its own is started again after a delay that doubles from
``first_delay_s`` to ``max_delay_s`` and starts over once the component stayed up ``reset_after_s``;
one that exits ``burst`` times within ``window_s`` is reported as failed and left alone. A
deliberate stop (``make down``, Ctrl-C, ``Stack.stop_component``) is not an exit the policy sees.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field

from devstack.layout import Layout


@dataclass(frozen=True)
class RestartPolicy:
    first_delay_s: float = 1.0
    max_delay_s: float = 30.0
    reset_after_s: float = 60.0
    burst: int = 5
    window_s: float = 60.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RestartPolicy:
        """``DEVSTACK_RESTART_DELAY_S``, ``DEVSTACK_RESTART_MAX_DELAY_S``, ``DEVSTACK_RESTART_BURST``
        (``exits/seconds``, default ``5/60``) over the defaults."""
        env = os.environ if environ is None else environ
        burst, window = env.get("DEVSTACK_RESTART_BURST", "5/60").split("/")
        return cls(
            first_delay_s=float(env.get("DEVSTACK_RESTART_DELAY_S", cls.first_delay_s)),
            max_delay_s=float(env.get("DEVSTACK_RESTART_MAX_DELAY_S", cls.max_delay_s)),
            burst=int(burst),
            window_s=float(window),
        )


def describe_exit(returncode: int | None) -> str:
    """``code 1``, ``signal SIGKILL``, or ``start failed`` (no exit code: it never got ready)."""
    if returncode is None:
        return "start failed"
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"code {returncode}"


@dataclass
class Restarts:
    """One component's history under supervision."""

    restarts: int = 0
    last_exit: str | None = None
    last_exit_at: float | None = None  # wall clock, for status
    last_restart_at: float | None = None  # wall clock, for status
    failed: bool = False
    started_at: float = 0.0  # monotonic: when it was last (re)started
    consecutive: int = 0  # exits since it last stayed up reset_after_s
    exits: list[float] = field(default_factory=list)  # monotonic times within the window

    def exited(self, policy: RestartPolicy, how: str, now: float, wall: float) -> float | None:
        """Record an exit; the delay before the restart, or None when it has failed for good."""
        self.last_exit, self.last_exit_at = how, wall
        self.exits = [t for t in self.exits if now - t < policy.window_s] + [now]
        if now - self.started_at >= policy.reset_after_s:
            self.consecutive = 0
        self.consecutive += 1
        if len(self.exits) >= policy.burst:
            self.failed = True
            return None
        return min(policy.max_delay_s, policy.first_delay_s * 2 ** (self.consecutive - 1))

    def restarted(self, now: float, wall: float) -> None:
        self.restarts += 1
        self.started_at, self.last_restart_at = now, wall

    def view(self) -> dict[str, object]:
        return {
            "restarts": self.restarts,
            "last_exit": self.last_exit,
            "last_exit_at": self.last_exit_at,
            "last_restart_at": self.last_restart_at,
            "failed": self.failed,
        }


def read_history(layout: Layout) -> dict[str, dict]:
    """What the supervisor recorded (``run/supervision.json``; empty when nothing ever exited)."""
    try:
        return dict(json.loads(layout.supervision.read_text()))
    except (OSError, ValueError):
        return {}
