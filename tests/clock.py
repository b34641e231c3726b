"""The one fake clock of the tests: a time that moves only when a test (or a fake sleep) moves it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Sleeping moves the clock on instead of waiting (at least a millisecond, so a loop that
        sleeps 0 still sees time pass)."""
        self.now += max(seconds, 0.001)
