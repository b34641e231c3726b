"""Operator-issued API keys in PostgreSQL (``api_keys``): only a hash of each secret is stored.

A key reads ``dj_<key_id>_<secret>``: ``key_id`` finds the row, the secret's sha256 must match it
(the secret is 256 random bits, so a plain hash is enough; a slow hash guards low-entropy passwords).
A key's owner is ``sha256("key:" + key_id)``, the owner its jobs record, the same hash a session's
id gets, so every ownership check holds for keys unchanged. Verified keys are remembered for
``CACHE_S``: a revoked key stops working within that time on every API instance.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass, field

import asyncpg

from runtime import schema

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id       text        PRIMARY KEY,
    name         text        NOT NULL,
    secret_hash  text        NOT NULL,
    rate_limits  jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
"""
PREFIX = "dj_"
KEY_PATTERN = re.compile(r"^dj_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
CACHE_S = 10.0


def session_id_of(key_id: str) -> str:
    """The session id a key acts as: its owner is ``owner_of()`` of this (sha256 of the text)."""
    return f"key:{key_id}"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    rate_limits: dict[str, str] = field(default_factory=dict)  # endpoint -> "requests/seconds"
    created_at: str = ""
    revoked: bool = False


class ApiKeyStore:
    def __init__(self, pool: asyncpg.Pool, timeout_s: float = 5.0) -> None:
        self.pool, self.timeout_s = pool, timeout_s
        self._seen: dict[str, tuple[float, ApiKey | None]] = {}

    async def migrate(self) -> None:
        await schema.create(self.pool, "api_keys", SCHEMA)

    async def create(self, name: str, rate_limits: dict[str, str]) -> tuple[ApiKey, str]:
        """A new key and its full text, shown once (only its hash is kept)."""
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        async with asyncio.timeout(self.timeout_s):
            await self.pool.execute(
                "INSERT INTO api_keys (key_id, name, secret_hash, rate_limits) "
                "VALUES ($1, $2, $3, $4::jsonb)",
                key_id,
                name,
                _digest(secret),
                json.dumps(rate_limits),
            )
        return ApiKey(key_id, name, rate_limits), f"{PREFIX}{key_id}_{secret}"

    async def all(self) -> list[ApiKey]:
        async with asyncio.timeout(self.timeout_s):
            rows = await self.pool.fetch("SELECT * FROM api_keys ORDER BY created_at")
        return [_key(r) for r in rows]

    async def revoke(self, key_id: str) -> bool:
        async with asyncio.timeout(self.timeout_s):
            done = await self.pool.execute(
                "UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL", key_id
            )
        return done.endswith(" 1")

    async def verify(self, text: str) -> ApiKey | None:
        """The live key this text is, or None (malformed, unknown, wrong secret or revoked)."""
        match = KEY_PATTERN.match(text)
        if match is None:
            return None
        now = time.monotonic()
        cached = self._seen.get(text)
        if cached is not None and now - cached[0] < CACHE_S:
            return cached[1]
        found = await self._lookup(match.group(1), match.group(2))
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[text] = (now, found)
        return found

    async def _lookup(self, key_id: str, secret: str) -> ApiKey | None:
        async with asyncio.timeout(self.timeout_s):
            row = await self.pool.fetchrow("SELECT * FROM api_keys WHERE key_id = $1", key_id)
        if row is None or row["revoked_at"] is not None:
            return None
        if not hmac.compare_digest(row["secret_hash"], _digest(secret)):
            return None
        return _key(row)


def _key(row: asyncpg.Record) -> ApiKey:
    limits = row["rate_limits"]
    return ApiKey(
        row["key_id"],
        row["name"],
        json.loads(limits) if isinstance(limits, str) else dict(limits),
        row["created_at"].isoformat(),
        row["revoked_at"] is not None,
    )
