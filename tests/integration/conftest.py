"""Connections to the session stack that integration tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import nats
import pytest
from faststream.nats import NatsBroker

from devstack import INFRA, Ports, Stack
from runtime import bus
from tests.integration.bus import Log


@pytest.fixture(scope="module")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own for the module: the infrastructure only (no MCP server, no services)."""
    running = Stack(tmp_path_factory.mktemp("infra"), Ports.free(), components=INFRA)
    try:
        running.start()
        yield running
    finally:
        running.purge()  # as root, PostgreSQL's data may live outside tmp (see devstack/postgres.py)


@pytest.fixture
async def log(stack_env: dict[str, str]) -> AsyncIterator[Log]:
    nc = await nats.connect(stack_env["NATS_URL"])
    yield Log(nc)
    await nc.close()


@pytest.fixture
async def db(stack_env: dict[str, str]) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(stack_env["DATABASE_URL"], min_size=1, max_size=2)
    yield pool
    await pool.close()


@pytest.fixture
async def broker(stack_env: dict[str, str]) -> AsyncIterator[NatsBroker]:
    connected = bus.broker(stack_env["NATS_URL"], "test")
    await connected.connect()
    yield connected
    await connected.stop()
