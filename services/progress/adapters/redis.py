"""The hot projection: SSE replay buffer, history marker and live announcement, per event."""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

from contracts import keys
from contracts.sse import SseEntry

# KEYS: buffer, history. ARGV: number, entry, buffer ttl, channel, history ttl, terminal (0/1).
# Adds the entry once per number (the score), renews the TTLs, raises the history mark, and
# announces only what is new.
_BUFFER_AND_ANNOUNCE = """
local added = 0
if #redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1], 'LIMIT', 0, 1) == 0 then
  added = redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
local last = tonumber(redis.call('HGET', KEYS[2], 'last') or '0')
if tonumber(ARGV[1]) > last then redis.call('HSET', KEYS[2], 'last', ARGV[1]) end
if ARGV[6] == '1' then redis.call('HSET', KEYS[2], 'terminal', ARGV[1]) end
redis.call('EXPIRE', KEYS[2], ARGV[5])
if added == 1 then redis.call('PUBLISH', ARGV[4], ARGV[2]) end
return added
"""


class SseBuffer:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.script = redis.register_script(_BUFFER_AND_ANNOUNCE)

    async def add(self, job_id: str, entries: Sequence[SseEntry], buffer_ttl_s: int | None = None) -> int:
        """Buffer and announce entries (in order) in one round trip; returns how many were new."""
        if not entries:
            return 0
        async with self.redis.pipeline(transaction=False) as pipe:
            for entry in entries:
                await self.script(keys=[keys.sse_events(job_id), keys.sse_history(job_id)],
                                  args=[entry.id, entry.to_json(), buffer_ttl_s or keys.SSE_BUFFER_TTL_S,
                                        keys.sse_live(job_id), keys.SSE_HISTORY_TTL_S,
                                        int(entry.terminal)],
                                  client=pipe)
            return sum(await pipe.execute())
