"""PostgreSQL pools and table creation at start-up, safe when several copies start together."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg


async def pool(dsn: str, **options: Any) -> asyncpg.Pool:
    """A pool whose connections go back without asyncpg's reset query (``RESET ALL``, ``UNLISTEN``,
    advisory unlock: one more round trip on every release). No code here sets session state: open
    transactions are still rolled back on release, and the only lock, :func:`create`'s, belongs to
    its transaction."""
    return await asyncpg.create_pool(dsn, reset=_nothing_to_reset, **options)


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    return None


DDL_ATTEMPTS = 5


async def create(pool: asyncpg.Pool, name: str, ddl: str) -> None:
    """Run ``ddl`` (``CREATE ... IF NOT EXISTS``) in one transaction, under an advisory lock named
    after ``name`` that ends with it. A copy restarted while another one writes can deadlock with it
    (the DDL's table locks against the writer's row locks); PostgreSQL then aborts one of the two,
    and the DDL is run again (at most ``DDL_ATTEMPTS`` times)."""
    for attempt in range(1, DDL_ATTEMPTS + 1):
        try:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"docling-jobs:{name}")
                await conn.execute(ddl)
            return
        except asyncpg.DeadlockDetectedError:
            if attempt == DDL_ATTEMPTS:
                raise
            await asyncio.sleep(0.1 * attempt)
