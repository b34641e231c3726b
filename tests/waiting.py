"""Waiting for something the system does on its own time: poll a condition, never sleep and hope.

``wait_for`` polls from synchronous code, ``wait_for_async`` from a coroutine (its check may be a
plain function or return an awaitable); both have the same arguments, semantics and failure message.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class _Deadline:
    def __init__(self, timeout: float, what: str) -> None:
        self.timeout, self.what = timeout, what
        self.at = time.monotonic() + timeout

    def check(self) -> None:
        if time.monotonic() >= self.at:
            raise AssertionError(f"timed out after {self.timeout} s waiting for {self.what}")


def wait_for(
    check: Callable[[], T],
    timeout: float,
    what: str,
    every: float = 0.1,
    tolerate: tuple[type[BaseException], ...] = (),
) -> T:
    """Poll ``check`` until it returns something truthy, and return that; fail naming ``what``
    after ``timeout`` seconds. An exception in ``tolerate`` (a server still coming back) counts as
    not yet."""
    deadline = _Deadline(timeout, what)
    while True:
        try:
            value = check()
        except tolerate:
            value = None
        if value:
            return value
        deadline.check()
        time.sleep(every)


async def wait_for_async(
    check: Callable[[], T | Awaitable[T]],
    timeout: float,
    what: str,
    every: float = 0.1,
    tolerate: tuple[type[BaseException], ...] = (),
) -> T:
    """``wait_for`` inside an event loop: the loop runs on between two checks."""
    deadline = _Deadline(timeout, what)
    while True:
        try:
            value = check()
            if inspect.isawaitable(value):
                value = await value
        except tolerate:
            value = None
        if value:
            return value  # type: ignore[return-value]
        deadline.check()
        await asyncio.sleep(every)
