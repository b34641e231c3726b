"""Table creation at start-up, safe when several copies start together."""

from __future__ import annotations

import asyncpg


async def create(pool: asyncpg.Pool, name: str, ddl: str) -> None:
    """Run ``ddl`` (``CREATE ... IF NOT EXISTS``) under an advisory lock named after ``name``."""
    lock = f"docling-jobs:{name}"
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock(hashtext($1))", lock)
        try:
            await conn.execute(ddl)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", lock)
