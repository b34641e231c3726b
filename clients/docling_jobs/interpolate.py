"""Displayed progress between sparse server updates (seed: "Progress Interpolation"), as pure code.

The displayed value moves toward the target (the highest progress the server has reported) once per
tick; the caller ticks every 100 ms (``TICK_S``), and one ``tick()`` call is one tick. Each tick:

1. Stale pause: when the last server news (any ``on_server`` call, even one whose value is ignored)
   is 5 s old or older (``now - last_news >= 5``), or there has been none, nothing moves.
2. Catch-up: when the target is more than 10 points ahead (``target - displayed > 10``), the tick
   closes half the gap: ``displayed += (target - displayed) / 2``. This is the only case where one
   tick may add more than 1 point. Example: 15 -> 60 shows 37.5, 48.75, 54.38, then +1 a tick.
3. Otherwise: ``displayed = min(target, displayed + 1)``: at most +1 point a tick, never past
   what the server said.

``on_complete()`` sets the displayed value to 100 at once, whatever the clock. The displayed value
never decreases: a server value lower than the target is ignored (the target never decreases and
the displayed value never passes it). Server values are clamped to [0, 100]; non-finite ones are
ignored. A reconnection needs nothing special: the displayed value simply resumes from where it is.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

TICK_S = 0.1
MAX_STEP = 1.0
STALE_AFTER_S = 5.0
CATCH_UP_GAP = 10.0
CATCH_UP_SHARE = 0.5
COMPLETE = 100.0


def step(displayed: float, target: float, quiet_for: float | None) -> float:
    """The displayed value after one tick; ``quiet_for`` is the time since the last news (or None)."""
    gap = target - displayed
    if gap <= 0 or quiet_for is None or quiet_for >= STALE_AFTER_S:
        return displayed
    if gap > CATCH_UP_GAP:
        return displayed + gap * CATCH_UP_SHARE
    return min(target, displayed + MAX_STEP)


class Interpolator:
    """Holds the displayed value; ``on_server``/``on_complete`` feed it, ``tick`` advances it."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.displayed = 0.0
        self.target = 0.0
        self.last_news: float | None = None

    def on_server(self, progress: float, at: float | None = None) -> None:
        """Server news at time ``at`` (default: the clock); lower values than before are ignored."""
        self.last_news = self._clock() if at is None else at
        if math.isfinite(progress):
            self.target = max(self.target, min(COMPLETE, max(0.0, float(progress))))

    def on_complete(self) -> None:
        """The job succeeded: show 100 % now."""
        self.target = self.displayed = COMPLETE

    def tick(self, now: float | None = None) -> float:
        """One 100 ms tick at time ``now`` (default: the clock); returns the displayed value."""
        now = self._clock() if now is None else now
        quiet_for = None if self.last_news is None else now - self.last_news
        self.displayed = step(self.displayed, self.target, quiet_for)
        return self.displayed
