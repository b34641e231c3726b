"""How many SSE streams may be open at once: per API instance, and per session on that instance.

A stream takes its slot before the answer starts (past a cap the request gets 429 E115, and the
client can poll instead) and gives it back when the stream ends, however it ends: the route starts
the stream's generator itself (:func:`opened`), so a client that hangs up before the first message
still runs its ``finally`` (asyncio closes a started async generator it collects).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

from services.api.problems import Problem


class StreamSlots:
    def __init__(self, per_instance: int, per_session: int) -> None:
        self.per_instance, self.per_session = per_instance, per_session
        self.open: Counter[str] = Counter()

    @property
    def total(self) -> int:
        return sum(self.open.values())

    def take(self, owner: str) -> None:
        if self.total >= self.per_instance:
            raise Problem("E115", "This API instance has as many live streams open as it allows.")
        if self.open[owner] >= self.per_session:
            raise Problem("E115", f"A session may hold {self.per_session} live streams at once.")
        self.open[owner] += 1

    def give_back(self, owner: str) -> None:
        self.open[owner] -= 1
        if self.open[owner] <= 0:
            del self.open[owner]


async def _held(slots: StreamSlots, owner: str, messages: AsyncIterator) -> AsyncIterator:
    try:
        async for message in messages:
            yield message
    finally:
        slots.give_back(owner)


async def _chained(first: object | None, rest: AsyncIterator) -> AsyncIterator:
    if first is None:
        return
    yield first
    async for message in rest:
        yield message


async def opened(slots: StreamSlots, owner: str, messages: AsyncIterator) -> AsyncIterator:
    """Take ``owner``'s slot (E115 past a cap) and start the stream, so its slot is always returned."""
    slots.take(owner)
    held = _held(slots, owner, messages)
    return _chained(await anext(held, None), held)
