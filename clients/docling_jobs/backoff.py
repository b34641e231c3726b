"""The SSE reconnection schedule (seed: "SSE Reconnection Sequence"), as pure code.

Rule: the delay before reconnection attempt ``k`` (zero-based: ``k = 0`` is the wait before the
first reconnection after a lost connection) is ``min(30, 1 * 2**k)`` seconds times a jitter factor
``1 + 0.1 * (2r - 1)`` where ``r`` in [0, 1] comes from the injected random source, so every delay lies
in ``[0.9 * min(30, 2**k), 1.1 * min(30, 2**k)]``. Nominal delays: 1, 2, 4, 8, 16, 30, 30, 30, 30, 30.
There are exactly 10 attempts (``k = 0 .. 9``); after the 10th fails the caller gives up on SSE and
falls back to polling.
"""

from __future__ import annotations

import random
from collections.abc import Callable

BASE_S = 1.0
FACTOR = 2.0
MAX_S = 30.0
JITTER = 0.10
MAX_TRIES = 10

Random = Callable[[], float]
"""A source of floats in [0, 1], like ``random.random``."""


def nominal(attempt: int) -> float:
    """The delay before attempt ``attempt`` (zero-based) without jitter."""
    if not 0 <= attempt < MAX_TRIES:
        raise ValueError(f"attempt must be in 0..{MAX_TRIES - 1}, not {attempt}")
    return min(MAX_S, BASE_S * FACTOR**attempt)


def delay(attempt: int, rng: Random = random.random) -> float:
    """The jittered delay before attempt ``attempt`` (zero-based): nominal +/- 10 %."""
    r = min(1.0, max(0.0, rng()))
    return nominal(attempt) * (1.0 + JITTER * (2.0 * r - 1.0))


class ReconnectionManager:
    """Counts reconnection attempts: ``next_delay()`` until exhausted, ``reset()`` after real progress.

    ``next_delay()`` returns the delay to wait before the next attempt and counts it, or ``None``
    once 10 attempts were used (give up, poll). ``reset()`` starts again from 1 s; the reader calls it
    when a connection delivered a new event, so only failures in a row count.
    """

    def __init__(self, rng: Random = random.random) -> None:
        self._rng = rng
        self.attempts = 0

    @property
    def exhausted(self) -> bool:
        return self.attempts >= MAX_TRIES

    def next_delay(self) -> float | None:
        if self.exhausted:
            return None
        wait = delay(self.attempts, self._rng)
        self.attempts += 1
        return wait

    def reset(self) -> None:
        self.attempts = 0
