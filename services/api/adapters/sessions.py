"""Sessions in Redis (``session:{uuid}``, JSON, TTL 24 h), with this process's memory as fallback.

Redis is the authority while it answers: a session it does not hold does not exist (ended,
expired, or lost with a Redis flush). While Redis is down, sessions this process created or has
seen keep working from memory, and new ones are created in memory; those are written to Redis
when it answers again.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass

from redis.asyncio import Redis

from contracts import keys
from services.api.adapters.fallback import RedisFallback


@dataclass(frozen=True)
class Session:
    session_id: str
    created_at: float  # unix seconds
    expires_at: float

    @property
    def owner(self) -> str:
        return owner_of(self.session_id)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, raw: str) -> Session:
        value = json.loads(raw)
        return cls(str(value["session_id"]), float(value["created_at"]), float(value["expires_at"]))


def owner_of(session_id: str) -> str:
    """What jobs record as their owner: a hash, so the log never holds the bearer secret."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def valid_id(raw: str) -> str | None:
    """The canonical form of a session id (a UUID), or None."""
    try:
        return str(uuid.UUID(raw.strip()))
    except (ValueError, AttributeError):
        return None


class SessionStore:
    def __init__(
        self,
        redis: Redis,
        fallback: RedisFallback,
        ttl_s: int = keys.SESSION_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis, self.fallback, self.ttl_s, self.clock = redis, fallback, ttl_s, clock
        self._memory: dict[str, Session] = {}
        self._unsynced: set[str] = set()  # created while Redis was down

    async def create(self) -> Session:
        now = self.clock()
        session = Session(str(uuid.uuid4()), now, now + self.ttl_s)
        stored, _ = await self.fallback.attempt(
            lambda: self.redis.set(keys.session(session.session_id), session.to_json(), ex=self.ttl_s)
        )
        self._remember(session)
        if not stored:
            self._unsynced.add(session.session_id)
        return session

    async def get(self, session_id: str) -> Session | None:
        answered, raw = await self.fallback.attempt(lambda: self.redis.get(keys.session(session_id)))
        if not answered:
            return self._alive(self._memory.get(session_id))
        if raw is None:
            return await self._sync(session_id)
        session = Session.from_json(raw)
        self._remember(session)
        return self._alive(session)

    async def end(self, session_id: str) -> None:
        await self.fallback.attempt(lambda: self.redis.delete(keys.session(session_id)))
        self._memory.pop(session_id, None)
        self._unsynced.discard(session_id)

    async def _sync(self, session_id: str) -> Session | None:
        """Redis does not know it: only a session made here during an outage is written back."""
        session = self._alive(self._memory.get(session_id))
        if session is None or session_id not in self._unsynced:
            self._memory.pop(session_id, None)
            return None
        left = max(1, int(session.expires_at - self.clock()))
        await self.fallback.attempt(
            lambda: self.redis.set(keys.session(session_id), session.to_json(), ex=left, nx=True)
        )
        self._unsynced.discard(session_id)
        return session

    def _remember(self, session: Session) -> None:
        self._memory[session.session_id] = session
        if len(self._memory) > 100_000:  # bound the fallback: forget the oldest remembered
            self._memory.pop(next(iter(self._memory)))

    def _alive(self, session: Session | None) -> Session | None:
        return session if session is not None and session.expires_at > self.clock() else None
