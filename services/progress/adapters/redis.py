"""The hot projection: the SSE replay buffer and the live announcement, in one Lua call."""

from __future__ import annotations

from redis.asyncio import Redis

from contracts import keys

# KEYS[1] buffer; ARGV: seq, entry, ttl, channel. Adds once, refreshes the TTL, announces once.
_BUFFER_AND_ANNOUNCE = """
local added = redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if added == 1 then redis.call('PUBLISH', ARGV[4], ARGV[2]) end
return added
"""


class SseBuffer:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.script = redis.register_script(_BUFFER_AND_ANNOUNCE)

    async def add(self, job_id: str, seq: int, entry: str) -> bool:
        added = await self.script(keys=[keys.sse_events(job_id)],
                                  args=[seq, entry, keys.SSE_BUFFER_TTL_S, keys.sse_live(job_id)])
        return added == 1
