"""The launcher's supervisor: restarts what exits on its own, by the policy in ``supervision``,
says so once per event, and records the history where ``status`` reads it (``run/supervision.json``)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Protocol

from devstack.errors import StackError
from devstack.layout import Layout
from devstack.stack import StackCancelled
from devstack.supervision import RestartPolicy, Restarts, describe_exit

LIVENESS_EVERY_S = 10.0  # how often the services' /livez is asked
LIVENESS_LOOKS = 2  # answers of 503 in a row before the service is restarted


class Supervised(Protocol):
    layout: Layout

    def exited(self) -> dict[str, int]: ...
    def gave_up(self) -> list[str]: ...
    def start_component(self, name: str) -> None: ...
    def stop_component(self, name: str) -> None: ...


class Supervisor:
    def __init__(
        self,
        stack: Supervised,
        policy: RestartPolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        say: Callable[[str], None] = lambda line: print(line, flush=True),
    ) -> None:
        self.stack, self.policy, self.clock, self.wall, self.say = stack, policy, clock, wall, say
        self.records: dict[str, Restarts] = {}
        self.due: dict[str, float] = {}  # name -> monotonic time of its restart
        self.dead_looks: dict[str, int] = {}  # name -> liveness checks in a row that said 503
        self.next_look = clock() + LIVENESS_EVERY_S

    def tick(self) -> None:
        """Notice exits, then restart what is due (``StackCancelled`` passes through: stopping)."""
        for name, code in self.stack.exited().items():
            self.stack.stop_component(name)  # reap it, clear its group and pid file
            self._exited(name, describe_exit(code))
        if self.clock() >= self.next_look:
            self._look_at_liveness()
        now = self.clock()
        for name in [n for n, at in self.due.items() if at <= now]:
            del self.due[name]
            self._restart(name)

    def _look_at_liveness(self) -> None:
        """A service whose ``/livez`` says 503 ``LIVENESS_LOOKS`` times in a row (its NATS
        connection closed for good, ...) is stopped and handled like an exit."""
        self.next_look = self.clock() + LIVENESS_EVERY_S
        dead = set(self.stack.gave_up())
        self.dead_looks = {name: self.dead_looks.get(name, 0) + 1 for name in dead}
        for name in [n for n, looks in self.dead_looks.items() if looks >= LIVENESS_LOOKS]:
            del self.dead_looks[name]
            self.say(f"warning: {name} says it cannot recover (/livez 503); stopping it")
            self.stack.stop_component(name)
            self._exited(name, "not alive")

    def _exited(self, name: str, how: str) -> None:
        record = self.records.setdefault(name, Restarts(started_at=self.clock()))
        delay = record.exited(self.policy, how, self.clock(), self.wall())
        log = self.stack.layout.log(name)
        if delay is None:
            self.say(
                f"error: {name} exited ({how}) {self.policy.burst} times within "
                f"{self.policy.window_s:.0f} s: failed, not restarting it; see {log}"
            )
        else:
            self.say(f"warning: {name} exited ({how}); restarting it in {delay:.0f} s; see {log}")
            self.due[name] = self.clock() + delay
        self._save()

    def _restart(self, name: str) -> None:
        record = self.records[name]
        try:
            self.stack.start_component(name)
        except StackCancelled:
            raise
        except StackError as error:
            self.stack.stop_component(name)  # one that hung before ready is still running
            self.say(f"warning: restarting {name} failed: {str(error).splitlines()[0]}")
            self._exited(name, describe_exit(None))
            return
        record.restarted(self.clock(), self.wall())
        self.say(f"restarted {name} (restart {record.restarts})")
        self._save()

    def _save(self) -> None:
        views = {}
        for name, record in self.records.items():
            state = "failed" if record.failed else "restarting" if name in self.due else "running"
            views[name] = {**record.view(), "state": state}
        path = self.stack.layout.supervision
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(views, indent=2) + "\n")
        tmp.replace(path)
