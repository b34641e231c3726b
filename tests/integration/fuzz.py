"""Schemathesis against the running API: every operation of ``/schema/openapi.json`` gets generated
requests (valid and invalid), and no answer may be a 5xx or anything but problem+json when it is
an error. Used by ``test_api_fuzz.py`` (a quick run) and ``bench/fuzz_api.py`` (a long one)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

PROBLEM = "application/problem+json"


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    timings: dict[str, tuple[int, float]] = field(default_factory=dict)  # operation -> (requests, s)

    def record(self, label: str, response: schemathesis.Response) -> None:
        self.requests += 1
        self.statuses[response.status_code] += 1
        content_type = (response.headers.get("content-type") or [""])[0]  # headers: name -> values
        if response.status_code >= 500:
            self.failures.append(f"{label}: {response.status_code} {response.text[:300]}")
        elif response.status_code >= 400 and not content_type.startswith(PROBLEM):
            self.failures.append(f"{label}: {response.status_code} is not problem+json ({content_type})")
        elif "Traceback" in response.text:
            self.failures.append(f"{label}: a stack trace left the server")


def new_token(base_url: str) -> str:
    return httpx.post(f"{base_url}/api/v1/sessions", timeout=30).json()["session_id"]


def fuzz(base_url: str, examples: int, tally: Tally | None = None) -> Tally:
    """Up to ``examples`` valid and as many invalid generated requests per operation (fewer where
    the operation has fewer distinct inputs), authenticated as one session (a fresh one for the
    operation that ends sessions). Returns what was sent and answered."""
    tally = tally or Tally()
    schema = schemathesis.openapi.from_url(f"{base_url}/schema/openapi.json")
    caller = Caller(base_url, new_token(base_url), requests.Session(), tally)
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in schemathesis.GenerationMode:  # valid requests, then invalid ones
            label = f"{operation.method.upper()} {operation.path} ({mode.value})"
            started, before = time.monotonic(), tally.requests
            try:
                caller.fuzzer(operation, mode, label, examples)()
            except Unsatisfiable:  # no invalid request exists (an operation without inputs)
                pass
            tally.timings[label] = (tally.requests - before, round(time.monotonic() - started, 2))
    return tally


@dataclass
class Caller:
    base_url: str
    token: str
    http: requests.Session
    tally: Tally

    def fuzzer(self, operation, mode: schemathesis.GenerationMode, label: str, examples: int):
        """A Hypothesis test that sends ``operation``'s generated cases of ``mode``."""
        ends_session = operation.definition.raw.get("operationId") == "endSession"

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            bearer = new_token(self.base_url) if ends_session else self.token
            # the generated cookie or bearer (the schema's security schemes) give way to a real
            # session: the header wins over the cookie, so the cases get past authentication
            headers = {**(case.headers or {}), "Authorization": f"Bearer {bearer}"}
            response = case.call(base_url=self.base_url, session=self.http, headers=headers, timeout=30)
            self.tally.record(label, response)

        return run
