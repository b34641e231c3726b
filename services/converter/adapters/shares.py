"""Each owner's share of the conversions in progress, kept in Redis for every converter copy.

A job converts only under a lease: a member of its owner's sorted set ``fair:active:{owner}``
scored by when it lapses (the Redis server's clock). Taking one, renewing it and counting the
owner's live leases happen in one Lua call, so two copies never both take the last free place.
A lease is renewed while its job runs and released on every outcome; a copy that dies (SIGKILL)
leaves leases that lapse after ``lease_s``. Redis away: every job may start (the limit is about
fairness, never about correctness), as the circuit falls back to a local one.
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis
from prometheus_client import Counter
from redis.exceptions import RedisError

from contracts import keys

log = logging.getLogger(__name__)

WAITS = Counter(
    "docling_converter_owner_waits_total",
    "Deliveries of a job put back because its owner's other conversions used the owner's share",
)

# KEYS: active set, waits counter. ARGV: job id, limit, lease ms, waits TTL ms.
# Returns 0 (the lease is the job's: taken or renewed) or how many times the job has now waited.
TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 0
end
local waits = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return waits
"""

# KEYS: active set. ARGV: job id, lease ms. The job is converting: it counts, lapsed or not.
RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""


class OwnerShares:
    """At most ``limit`` conversions in progress per owner across every converter copy.

    Jobs without an owner (from before owners were recorded) are not limited.
    """

    def __init__(self, redis: aioredis.Redis, limit: int, lease_s: float, waits_ttl_s: float) -> None:
        self.redis, self.limit = redis, limit
        self.lease_ms, self.waits_ttl_ms = int(lease_s * 1000), int(waits_ttl_s * 1000)
        self.lease_s = lease_s
        self._take = redis.register_script(TAKE)
        self._renew = redis.register_script(RENEW)

    async def take(self, owner: str, job_id: str) -> int:
        """0 when the job may convert now (its lease is taken), else how often it has waited."""
        if not owner:
            return 0
        keys_ = [keys.owner_active(owner), keys.owner_waits(job_id)]
        try:
            waited = int(await self._take(keys_, [job_id, self.limit, self.lease_ms, self.waits_ttl_ms]))
        except (RedisError, OSError) as exc:
            log.warning(
                "owner shares unavailable; the job starts", extra={"job_id": job_id, "error": str(exc)}
            )
            return 0
        if waited:
            WAITS.inc()
        return waited

    async def renew(self, owner: str, job_id: str) -> None:
        if owner:
            await self._renew([keys.owner_active(owner)], [job_id, self.lease_ms])

    async def release(self, owner: str, job_id: str) -> None:
        """Give the place back (a lease Redis cannot hear about lapses by itself)."""
        if not owner:
            return
        try:
            await self.redis.zrem(keys.owner_active(owner), job_id)
        except (RedisError, OSError):
            log.info("could not release an owner's lease; it lapses", extra={"job_id": job_id})

    async def waits(self, job_id: str) -> int:
        """How many deliveries of the job only waited (0 when Redis cannot say)."""
        try:
            return int(await self.redis.get(keys.owner_waits(job_id)) or 0)
        except (RedisError, OSError):
            return 0
