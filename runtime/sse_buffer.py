"""The SSE replay buffer in Redis (the seed's ``sse:events:{jobId}``), its history marker and the live
announcement, per event.

Shared plumbing, not a service: progress writes it, the API reads it (keys from ``contracts.keys``),
and a restore lays it down again from the archive (``reset``); so it lives beside ``contracts``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from redis.asyncio import Redis

from contracts import keys
from contracts.sse import SseEntry

# One call per batch. KEYS: buffer and history key of each entry, in pairs. ARGV[1] buffer ttl,
# ARGV[2] history ttl, then per entry: number, member, channel, terminal (0/1). Each entry is added
# once per number (the score); TTLs are renewed; the history mark rises; only what is new is
# announced. Returns how many entries were new.
_BUFFER_AND_ANNOUNCE = """
local new = 0
for i = 1, #KEYS / 2 do
  local buffer, history, a = KEYS[2 * i - 1], KEYS[2 * i], 3 + 4 * (i - 1)
  local n, member, channel, terminal = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  if #redis.call('ZRANGEBYSCORE', buffer, n, n, 'LIMIT', 0, 1) == 0 then
    redis.call('ZADD', buffer, n, member)
    redis.call('PUBLISH', channel, member)
    new = new + 1
  end
  redis.call('EXPIRE', buffer, ARGV[1])
  local last = tonumber(redis.call('HGET', history, 'last') or '0')
  if tonumber(n) > last then redis.call('HSET', history, 'last', n) end
  if terminal == '1' then redis.call('HSET', history, 'terminal', n) end
  redis.call('EXPIRE', history, ARGV[2])
end
return new
"""


class SseBuffer:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.script = redis.register_script(_BUFFER_AND_ANNOUNCE)

    async def add(self, entries: Sequence[SseEntry], buffer_ttl_s: int | None = None) -> int:
        """Buffer and announce entries (each job's in number order) in one call; returns how many
        were new."""
        if not entries:
            return 0
        names, args = [], [buffer_ttl_s or keys.SSE_BUFFER_TTL_S, keys.SSE_HISTORY_TTL_S]
        for entry in entries:
            job_id = entry.data["job_id"]
            names += [keys.sse_events(job_id), keys.sse_history(job_id)]
            args += [entry.id, entry.to_json(), keys.sse_live(job_id), int(entry.terminal)]
        return await self.script(keys=names, args=args)


async def reset(redis: Redis, entries: dict[str, list[SseEntry]]) -> int:
    """Drop every buffer and marker, then re-add what is still inside the buffer's TTL."""
    for pattern in (keys.sse_events("*"), keys.sse_history("*")):
        async for key in redis.scan_iter(match=pattern, count=500):
            await redis.delete(key)
    buffer, now, rebuffered = SseBuffer(redis), datetime.now(UTC), 0
    for job_id, job_entries in entries.items():
        last = datetime.fromisoformat(job_entries[-1].data["occurred_at"])
        left = keys.SSE_BUFFER_TTL_S - int((now - last).total_seconds())
        if left > 0:
            rebuffered += await buffer.add(job_entries, buffer_ttl_s=left)
        else:
            await redis.hset(keys.sse_history(job_id), mapping=_history(job_entries))
            await redis.expire(keys.sse_history(job_id), keys.SSE_HISTORY_TTL_S)
    return rebuffered


def _history(entries: list[SseEntry]) -> dict:
    terminal = [e.id for e in entries if e.terminal]
    return {"last": entries[-1].id, **({"terminal": terminal[0]} if terminal else {})}
