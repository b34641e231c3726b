"""SSE stream slots: the caps, and a slot returned however its stream ends."""

from __future__ import annotations

import asyncio
import gc

import pytest

from services.api.problems import Problem
from services.api.stream_slots import StreamSlots, opened


async def messages(count: int = 3):
    for n in range(count):
        yield n


def test_the_caps_per_session_and_per_instance() -> None:
    slots = StreamSlots(per_instance=3, per_session=2)
    slots.take("a")
    slots.take("a")
    with pytest.raises(Problem) as refused:
        slots.take("a")
    assert refused.value.entry.code == "E115"
    slots.take("b")
    with pytest.raises(Problem):
        slots.take("c")
    slots.give_back("a")
    slots.take("c")
    assert slots.open == {"a": 1, "b": 1, "c": 1}


async def test_a_stream_read_to_its_end_gives_its_slot_back() -> None:
    slots = StreamSlots(10, 10)
    stream = await opened(slots, "a", messages())
    assert slots.total == 1
    assert [m async for m in stream] == [0, 1, 2] and slots.total == 0


async def test_a_stream_never_read_gives_its_slot_back_when_dropped() -> None:
    slots = StreamSlots(10, 10)
    stream = await opened(slots, "a", messages())
    await stream.aclose()  # the answer never started: the wrapper is closed unstarted
    del stream
    gc.collect()
    for _ in range(3):  # asyncio closes the collected, started generator on a later loop turn
        await asyncio.sleep(0)
    assert slots.total == 0
