"""Readiness probes: each answers quickly with True/False and never raises."""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

HOST = "127.0.0.1"
T = TypeVar("T")


def tcp_open(port: int, timeout: float = 1.0) -> bool:
    """Something accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """GET url answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError, ValueError):
        return False


def http_refused(url: str, timeout: float = 2.0) -> bool:
    """GET url answers 503 (a service's ``/livez`` saying it cannot recover by itself); no answer
    at all is not counted (the process may be busy; an exit is noticed on its own)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return False
    except urllib.error.HTTPError as error:
        return error.code == 503
    except (OSError, urllib.error.URLError, ValueError):
        return False


def valkey_ping(port: int, password: str | None = None) -> bool:
    """PING (after AUTH with ``password``) answers PONG."""
    import redis

    client = redis.Redis(host=HOST, port=port, password=password, socket_timeout=2, socket_connect_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def postgres_accepts(port: int, user: str, database: str, password: str | None = None) -> bool:
    """`select 1` succeeds on database as user (with password)."""
    return run_async(lambda: _postgres_select1(port, user, database, password))


def mcp_lists_tools(url: str, port: int, token: str | None = None) -> bool:
    """An MCP session opens on url (with the bearer secret ``token``, when the server needs one)
    and lists at least one tool."""
    return tcp_open(port) and run_async(lambda: _mcp_list_tools(url, token))


def run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion, even when called from inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


async def _postgres_select1(port: int, user: str, database: str, password: str | None) -> bool:
    import asyncpg  # type: ignore[import-untyped]

    try:
        conn = await asyncpg.connect(
            host=HOST, port=port, user=user, password=password, database=database, timeout=2
        )
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    try:
        return bool(await conn.fetchval("select 1") == 1)
    except asyncpg.PostgresError:
        return False
    finally:
        await conn.close()


async def _mcp_list_tools(url: str, token: str | None) -> bool:
    import httpx2
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    bearer = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with (
            asyncio.timeout(10),
            httpx2.AsyncClient(timeout=5, headers=bearer) as http,
            streamable_http_client(url, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return len((await session.list_tools()).tools) > 0
    except Exception:  # any failure just means "not ready yet"
        return False
