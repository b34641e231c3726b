"""API sessions (``session:{uuid}`` in Redis): copied into a set so that, after a restore, people
and programs still reach their jobs. They are bearer secrets: the part is mode 0600 in a 0700 set."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from redis.asyncio import Redis

from contracts import keys

SESSIONS = "sessions.json"


async def save(redis: Redis, target: Path) -> int:
    found = {}
    async for key in redis.scan_iter(match=keys.session("*"), count=500):
        value = await redis.get(key)
        if value is not None:
            found[key] = value
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(found, out, sort_keys=True)
    return len(found)


async def load(redis: Redis, source: Path, now: float | None = None) -> int:
    """Put back every session not yet expired, with the time it has left."""
    clock = time.time() if now is None else now
    restored = 0
    for key, value in json.loads(await asyncio.to_thread(source.read_text)).items():
        left = int(float(json.loads(value)["expires_at"]) - clock)
        if left > 0:
            await redis.set(key, value, ex=left)
            restored += 1
    return restored
