"""Reconnecting for ever: a capped, jittered exponential backoff (pure, injected randomness).

nats-py's own policy gives up after ``max_reconnect_attempts`` (60 by default, 2 s apart, so about
two minutes), after which the client is closed for good. The services never give up instead: they
pass ``max_reconnect_attempts=-1`` and choose the wait before each attempt here.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ReconnectPolicy:
    """Wait ``base_s`` before the first attempt, doubling after each failure up to ``cap_s``, each
    wait moved by up to ``jitter`` (a fraction) either way so many clients do not retry in step."""

    base_s: float = 0.5
    cap_s: float = 10.0
    jitter: float = 0.2

    def wait_s(self, failures: int, rand: Callable[[], float] = random.random) -> float:
        """The wait before the next attempt after ``failures`` failed ones in a row."""
        step = min(self.cap_s, self.base_s * 2.0 ** min(failures, 62))
        return max(0.0, step * (1.0 + self.jitter * (2.0 * rand() - 1.0)))


class _Server(Protocol):
    reconnects: int


def choose_server(
    policy: ReconnectPolicy, rand: Callable[[], float] = random.random
) -> Callable[[Sequence[Any], dict[str, Any]], tuple[Any, float]]:
    """A nats-py ``reconnect_to_server_handler``: the server that failed least recently often
    (``reconnects`` counts its failed attempts since it last worked), after the policy's wait."""

    def handler(servers: Sequence[_Server], info: dict[str, Any]) -> tuple[Any, float]:
        server = min(servers, key=lambda s: s.reconnects)
        return server, policy.wait_s(server.reconnects, rand)

    return handler
