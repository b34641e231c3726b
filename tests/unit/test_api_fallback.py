"""The API's Redis fallback and the sessions' memory, with an in-memory Redis stand-in that can be
switched off (the integration tests stop a real Valkey; these pin the rules down in microseconds)."""

from __future__ import annotations

import redis.exceptions

from services.api.adapters.fallback import RETRY_S, RedisFallback
from services.api.adapters.sessions import SessionStore
from tests.clock import FakeClock


class FlakyRedis:
    """get/set/delete on a dict, refusing every call while ``down``."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.down = False
        self.calls = 0

    def _check(self) -> None:
        self.calls += 1
        if self.down:
            raise redis.exceptions.ConnectionError("refused")

    async def get(self, key: str) -> str | None:
        self._check()
        return self.data.get(key)

    async def set(self, key: str, value: str, ex: int, nx: bool = False) -> bool:
        self._check()
        if nx and key in self.data:
            return False
        self.data[key] = value
        return True

    async def delete(self, key: str) -> int:
        self._check()
        return int(self.data.pop(key, None) is not None)


def store() -> tuple[SessionStore, FlakyRedis, RedisFallback, FakeClock]:
    clock, fake = FakeClock(), FlakyRedis()
    fallback = RedisFallback(clock=clock)
    return SessionStore(fake, fallback, clock=clock), fake, fallback, clock


async def test_a_down_redis_is_asked_again_at_most_once_a_second() -> None:
    sessions, fake, fallback, clock = store()
    fake.down = True
    await sessions.create()
    assert fallback.active and fake.calls == 1
    await sessions.get("anything")
    assert fake.calls == 1  # not asked again yet
    clock.now += RETRY_S
    await sessions.get("anything")
    assert fake.calls == 2


async def test_sessions_survive_an_outage_and_are_written_back() -> None:
    sessions, fake, fallback, clock = store()
    before = await sessions.create()
    fake.down = True
    assert await sessions.get(before.session_id) == before  # known here: from memory
    during = await sessions.create()
    assert await sessions.get(during.session_id) == during and f"session:{during.session_id}" not in fake.data
    fake.down = False
    clock.now += RETRY_S
    assert await sessions.get(during.session_id) == during
    assert not fallback.active and f"session:{during.session_id}" in fake.data  # written back


async def test_once_redis_answers_it_is_the_authority() -> None:
    sessions, fake, _, clock = store()
    ended_elsewhere = await sessions.create()
    del fake.data[f"session:{ended_elsewhere.session_id}"]  # another API copy ended it
    assert await sessions.get(ended_elsewhere.session_id) is None
    fake.down = True
    clock.now += RETRY_S
    assert await sessions.get(ended_elsewhere.session_id) is None  # and memory forgot it


async def test_sessions_expire_after_24_hours_even_from_memory() -> None:
    sessions, fake, _, clock = store()
    session = await sessions.create()
    fake.down = True
    clock.now += 24 * 3600
    assert await sessions.get(session.session_id) is None
