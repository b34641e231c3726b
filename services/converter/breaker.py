"""The circuit breaker as pure functions of (circuit, config, now): no clock, no I/O.

CLOSED lets calls through and remembers the failures of the last ``window_s`` seconds; the
``failure_threshold``-th one opens the circuit. OPEN refuses calls until ``reset_timeout_s`` has
passed, then the first caller turns it HALF_OPEN and holds the one trial (a lease of
``trial_lease_s``, so a trial whose holder died does not block the circuit for ever). The trial's
success closes the circuit; its failure opens it again for another ``reset_timeout_s``.

The same functions run on the state shared in Redis (every converter copy, with the Redis server's
clock) and on a copy's own in-memory state when Redis is unreachable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from enum import StrEnum


class State(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


PROBE_TIMEOUT_S = 5.0  # how long the half-open trial's own call may take (converter: session + tools/list)
TRIAL_MARGIN_S = 5.0  # a trial's lease outlives its call by this much


@dataclass(frozen=True)
class Config:
    """The breaker's numbers; these defaults (the seed's) are the ones ``ConverterSettings`` starts from."""

    failure_threshold: int = 5
    reset_timeout_s: float = 30.0
    window_s: float = 60.0
    trial_lease_s: float = PROBE_TIMEOUT_S + TRIAL_MARGIN_S

    @classmethod
    def with_probe(
        cls, failure_threshold: int, reset_timeout_s: float, window_s: float, probe_s: float
    ) -> Config:
        """A config whose trial lease covers a probe of ``probe_s`` seconds."""
        return cls(failure_threshold, reset_timeout_s, window_s, trial_lease_s=probe_s + TRIAL_MARGIN_S)


@dataclass(frozen=True)
class Circuit:
    state: State = State.CLOSED
    failures: tuple[float, ...] = ()  # CLOSED: times of the failures still inside the window
    opened_at: float | None = None
    trial_until: float | None = None  # HALF_OPEN: the running trial's lease ends then
    code: str | None = None  # the application code of the failure that opened the circuit

    def to_json(self) -> str:
        return json.dumps(
            {
                "state": self.state.value,
                "failures": len(self.failures),
                "failure_times": list(self.failures),
                "opened_at": self.opened_at,
                "trial_until": self.trial_until,
                "code": self.code,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | bytes | None) -> Circuit:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(
            State(data["state"]),
            tuple(data.get("failure_times", ())),
            data.get("opened_at"),
            data.get("trial_until"),
            data.get("code"),
        )


@dataclass(frozen=True)
class Admission:
    """What a caller may do now: ``call`` (closed), ``trial`` (the one half-open probe) or wait
    until ``retry_at``."""

    kind: str  # "call" | "trial" | "wait"
    retry_at: float | None = None
    code: str | None = None

    @property
    def waits(self) -> bool:
        return self.kind == "wait"


CALL = Admission("call")
TRIAL = Admission("trial")


def admit(circuit: Circuit, config: Config, now: float) -> tuple[Circuit, Admission]:
    """May a call go out now? Turns OPEN into HALF_OPEN once the reset timeout has passed."""
    match circuit.state:
        case State.CLOSED:
            return circuit, CALL
        case State.OPEN:
            reopen_at = (circuit.opened_at or now) + config.reset_timeout_s
            if now < reopen_at:
                return circuit, Admission("wait", reopen_at, circuit.code)
            return _trial(circuit, config, now)
        case State.HALF_OPEN:
            if circuit.trial_until is not None and now < circuit.trial_until:
                return circuit, Admission("wait", circuit.trial_until, circuit.code)
            return _trial(circuit, config, now)  # the trial's holder vanished: take it over
    raise AssertionError(circuit.state)


def _trial(circuit: Circuit, config: Config, now: float) -> tuple[Circuit, Admission]:
    return replace(circuit, state=State.HALF_OPEN, trial_until=now + config.trial_lease_s), TRIAL


def succeeded(circuit: Circuit, config: Config, now: float, *, trial: bool) -> Circuit:
    """A call succeeded. Only the trial's success changes anything: it closes the circuit."""
    if trial and circuit.state is State.HALF_OPEN:
        return Circuit()
    return circuit


def failed(circuit: Circuit, config: Config, now: float, code: str, *, trial: bool) -> Circuit:
    """A call failed in a way that signals a sick server."""
    if trial:
        if circuit.state is State.HALF_OPEN:
            return _open(circuit, now, code)
        return circuit
    if circuit.state is not State.CLOSED:
        return circuit  # a call that started before the circuit opened: already counted enough
    recent = (*tuple(t for t in circuit.failures if t > now - config.window_s), now)
    if len(recent) >= config.failure_threshold:
        return _open(circuit, now, code)
    return replace(circuit, failures=recent)


def _open(circuit: Circuit, now: float, code: str) -> Circuit:
    return Circuit(State.OPEN, (), opened_at=now, trial_until=None, code=code)
