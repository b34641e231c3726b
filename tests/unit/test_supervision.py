"""The launcher's restart policy and supervisor, on a fake stack and a fake clock."""

from __future__ import annotations

import signal
from pathlib import Path

from devstack.errors import StackError
from devstack.layout import Layout
from devstack.supervision import RestartPolicy, Restarts, describe_exit, read_history
from devstack.supervisor import LIVENESS_EVERY_S, Supervisor
from tests.clock import FakeClock

POLICY = RestartPolicy(first_delay_s=1.0, max_delay_s=30.0, reset_after_s=60.0, burst=5, window_s=60.0)


def test_exits_are_described_by_code_or_signal() -> None:
    assert describe_exit(1) == "code 1"
    assert describe_exit(-signal.SIGKILL) == "signal SIGKILL"
    assert describe_exit(None) == "start failed"


def test_the_delay_doubles_to_the_cap_and_starts_over_after_a_long_run() -> None:
    policy = RestartPolicy(burst=100, window_s=1.0)  # the burst rule aside
    record, now, delays = Restarts(), 0.0, []
    for _ in range(7):
        now += 2.0  # each copy dies 2 s after it started
        delays.append(record.exited(policy, "code 1", now, now))
        record.restarted(now, now)
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    now += 61.0  # this one stayed up past reset_after_s
    assert record.exited(policy, "code 1", now, now) == 1.0


def test_five_exits_within_a_minute_fail_for_good_but_spread_out_they_do_not() -> None:
    record = Restarts()
    assert [record.exited(POLICY, "code 1", t, t) for t in (0, 10, 20, 30)] == [1.0, 2.0, 4.0, 8.0]
    assert record.exited(POLICY, "code 1", 40, 40) is None and record.failed
    spread = Restarts()
    assert all(spread.exited(POLICY, "code 1", t, t) is not None for t in range(0, 1000, 16))


def test_the_burst_and_delays_come_from_the_environment() -> None:
    env = {
        "DEVSTACK_RESTART_DELAY_S": "0.5",
        "DEVSTACK_RESTART_MAX_DELAY_S": "4",
        "DEVSTACK_RESTART_BURST": "3/10",
    }
    assert RestartPolicy.from_env(env) == RestartPolicy(0.5, 4.0, 60.0, 3, 10.0)
    assert RestartPolicy.from_env({}) == RestartPolicy()


class FakeStack:
    """Components that exit when told to; starts are recorded (or fail when asked)."""

    def __init__(self, home: Path) -> None:
        self.layout = Layout(home)
        self.layout.create()
        self.dead: dict[str, int] = {}
        self.started: list[str] = []
        self.stopped: list[str] = []
        self.refuse = False
        self.not_alive: set[str] = set()

    def exited(self) -> dict[str, int]:
        return dict(self.dead)

    def gave_up(self) -> list[str]:
        return sorted(self.not_alive)

    def stop_component(self, name: str) -> None:
        self.dead.pop(name, None)
        self.stopped.append(name)

    def start_component(self, name: str) -> None:
        if self.refuse:
            raise StackError(f"{name} exited with code 1 before it was ready")
        self.started.append(name)


def supervisor(stack: FakeStack, clock: FakeClock, said: list[str]) -> Supervisor:
    return Supervisor(stack, POLICY, clock=clock, wall=clock, say=said.append)


def test_a_killed_component_is_restarted_after_its_delay_and_recorded(tmp_path: Path) -> None:
    stack, clock, said = FakeStack(tmp_path), FakeClock(), []
    supervise = supervisor(stack, clock, said)
    stack.dead["ingest"] = -signal.SIGKILL
    supervise.tick()
    assert stack.started == [] and read_history(stack.layout)["ingest"]["state"] == "restarting"
    clock.now += 1.0
    supervise.tick()
    assert stack.started == ["ingest"]
    history = read_history(stack.layout)["ingest"]
    assert history["restarts"] == 1 and history["last_exit"] == "signal SIGKILL"
    assert history["state"] == "running" and history["last_restart_at"] == clock.now
    assert said[0].startswith("warning: ingest exited (signal SIGKILL); restarting it in 1 s")
    assert said[1] == "restarted ingest (restart 1)"


def test_a_component_that_keeps_dying_is_reported_failed_and_left_alone(tmp_path: Path) -> None:
    stack, clock, said = FakeStack(tmp_path), FakeClock(), []
    supervise = supervisor(stack, clock, said)
    for _ in range(5):
        stack.dead["converter"] = 1
        supervise.tick()
        clock.now += 8.0  # past every delay so far
        supervise.tick()
    assert stack.started.count("converter") == 4
    assert read_history(stack.layout)["converter"]["state"] == "failed"
    assert said[-1].startswith("error: converter exited (code 1) 5 times within 60 s: failed")
    clock.now += 3600.0
    supervise.tick()
    assert stack.started.count("converter") == 4  # never again


def test_a_restart_that_fails_counts_as_an_exit_and_is_tried_again(tmp_path: Path) -> None:
    stack, clock, said = FakeStack(tmp_path), FakeClock(), []
    supervise = supervisor(stack, clock, said)
    stack.dead["api"], stack.refuse = 1, True
    supervise.tick()
    clock.now += 1.0
    supervise.tick()
    assert read_history(stack.layout)["api"]["last_exit"] == "start failed"
    stack.refuse = False
    clock.now += 2.0
    supervise.tick()
    assert stack.started == ["api"] and read_history(stack.layout)["api"]["restarts"] == 1


def test_nothing_exited_nothing_restarted(tmp_path: Path) -> None:
    """A deliberate stop (stop_component, make down) leaves no exit behind for the supervisor."""
    stack, clock, said = FakeStack(tmp_path), FakeClock(), []
    supervise = supervisor(stack, clock, said)
    for _ in range(3):
        supervise.tick()
        clock.now += 10.0
    assert stack.started == [] and said == [] and read_history(stack.layout) == {}


def test_a_service_whose_livez_says_503_twice_in_a_row_is_restarted(tmp_path: Path) -> None:
    stack, clock, said = FakeStack(tmp_path), FakeClock(), []
    supervise = supervisor(stack, clock, said)
    stack.not_alive.add("api")
    clock.now += LIVENESS_EVERY_S
    supervise.tick()
    assert stack.stopped == []  # once is not enough
    clock.now += LIVENESS_EVERY_S
    supervise.tick()
    assert (
        stack.stopped == ["api"]
        and said[0] == "warning: api says it cannot recover (/livez 503); stopping it"
    )
    stack.not_alive.clear()
    clock.now += 1.0
    supervise.tick()
    assert stack.started == ["api"]
    assert read_history(stack.layout)["api"]["last_exit"] == "not alive"


def test_a_service_alive_again_between_looks_is_left_alone(tmp_path: Path) -> None:
    stack, clock, said = FakeStack(tmp_path), FakeClock(), []
    supervise = supervisor(stack, clock, said)
    for alive in (False, True, False, True):
        stack.not_alive = set() if alive else {"ingest"}
        clock.now += LIVENESS_EVERY_S
        supervise.tick()
    assert stack.stopped == [] and said == []
