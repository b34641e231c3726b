"""Every transition of the pure circuit breaker, with an explicit clock."""

import pytest

from services.converter.breaker import CALL, TRIAL, Circuit, Config, State, admit, failed, succeeded

CONFIG = Config(failure_threshold=5, reset_timeout_s=30.0, window_s=60.0, trial_lease_s=15.0)


def fail_times(circuit: Circuit, *times: float) -> Circuit:
    for t in times:
        circuit = failed(circuit, CONFIG, t, "E206", trial=False)
    return circuit


def opened(at: float = 100.0) -> Circuit:
    return fail_times(Circuit(), *(at - 4 + i for i in range(5)))


def test_closed_admits_calls() -> None:
    assert admit(Circuit(), CONFIG, 0.0) == (Circuit(), CALL)


def test_four_failures_keep_it_closed_the_fifth_opens_it() -> None:
    four = fail_times(Circuit(), 1, 2, 3, 4)
    assert four.state is State.CLOSED and len(four.failures) == 4
    five = fail_times(four, 5)
    assert (five.state, five.opened_at, five.code, five.failures) == (State.OPEN, 5, "E206", ())


def test_failures_older_than_the_window_do_not_count() -> None:
    circuit = fail_times(Circuit(), 0, 10, 20, 30, 61)  # the first left the window at t=60
    assert circuit.state is State.CLOSED and circuit.failures == (10, 20, 30, 61)
    assert fail_times(circuit, 62).state is State.OPEN


def test_a_success_while_closed_does_not_reset_the_window() -> None:
    circuit = fail_times(Circuit(), 1, 2, 3, 4)
    assert succeeded(circuit, CONFIG, 5, trial=False) == circuit


def test_open_refuses_until_the_reset_timeout() -> None:
    circuit = opened(100.0)
    for now in (100.0, 110.0, 129.999):
        after, admission = admit(circuit, CONFIG, now)
        assert after == circuit and admission.waits and admission.retry_at == 130.0
        assert admission.code == "E206"


def test_after_the_reset_timeout_the_first_caller_holds_the_trial() -> None:
    after, admission = admit(opened(100.0), CONFIG, 130.0)
    assert admission == TRIAL and after.state is State.HALF_OPEN and after.trial_until == 145.0


def test_half_open_refuses_everyone_else_while_the_trial_runs() -> None:
    half, _ = admit(opened(100.0), CONFIG, 130.0)
    after, admission = admit(half, CONFIG, 131.0)
    assert after == half and admission.waits and admission.retry_at == 145.0


def test_a_trial_whose_holder_vanished_is_taken_over_after_its_lease() -> None:
    half, _ = admit(opened(100.0), CONFIG, 130.0)
    after, admission = admit(half, CONFIG, 145.0)
    assert admission == TRIAL and after.trial_until == 160.0


def test_a_successful_trial_closes_the_circuit() -> None:
    half, _ = admit(opened(100.0), CONFIG, 130.0)
    assert succeeded(half, CONFIG, 131.0, trial=True) == Circuit()


def test_a_failed_trial_opens_it_again_for_another_reset_timeout() -> None:
    half, _ = admit(opened(100.0), CONFIG, 130.0)
    again = failed(half, CONFIG, 132.0, "E207", trial=True)
    assert (again.state, again.opened_at, again.code) == (State.OPEN, 132.0, "E207")
    assert admit(again, CONFIG, 161.0)[1].retry_at == 162.0


@pytest.mark.parametrize("state", ["open", "half_open"])
def test_failures_of_calls_that_started_before_the_circuit_opened_change_nothing(state: str) -> None:
    circuit = opened(100.0)
    if state == "half_open":
        circuit, _ = admit(circuit, CONFIG, 130.0)
    assert failed(circuit, CONFIG, 131.0, "E206", trial=False) == circuit
    assert succeeded(circuit, CONFIG, 131.0, trial=False) == circuit


def test_a_trial_result_outside_half_open_changes_nothing() -> None:
    assert succeeded(opened(), CONFIG, 200.0, trial=True) == opened()
    assert failed(Circuit(), CONFIG, 1.0, "E206", trial=True) == Circuit()


@pytest.mark.parametrize(
    "circuit", [Circuit(), opened(), admit(opened(), CONFIG, 130.0)[0], fail_times(Circuit(), 1, 2)]
)
def test_the_shared_json_round_trips(circuit: Circuit) -> None:
    assert Circuit.from_json(circuit.to_json()) == circuit


def test_the_shared_json_carries_state_and_failure_count() -> None:
    import json

    data = json.loads(fail_times(Circuit(), 1, 2).to_json())
    assert data["state"] == "CLOSED" and data["failures"] == 2
    assert Circuit.from_json(None) == Circuit()
