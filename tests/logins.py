"""How the tests log in to the stack's servers, which all ask for the generated passwords."""

from __future__ import annotations

from typing import Any

from devstack import Stack


def redis_login(stack: Stack) -> dict[str, Any]:
    """Keyword arguments of ``redis.Redis`` for the stack's Valkey: address and password."""
    env = stack.env()
    return {"host": env["REDIS_HOST"], "port": int(env["REDIS_PORT"]), "password": env["REDIS_PASSWORD"]}
