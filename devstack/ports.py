"""Port assignment: defaults, environment overrides, free-port picking and conflict checks."""

from __future__ import annotations

import dataclasses
import itertools
import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from devstack.errors import PortInUseError, StackError

HOST = "127.0.0.1"

# field name -> environment variable that overrides it
ENV_VARS: dict[str, str] = {
    "api": "API_PORT",
    "mcp": "MCP_PORT",
    "redis": "REDIS_PORT",
    "postgres": "POSTGRES_PORT",
    "nats": "NATS_PORT",
    "nats_monitor": "NATS_MONITOR_PORT",
    "ingest": "INGEST_PORT",
    "converter": "CONVERTER_PORT",
    "progress": "PROGRESS_PORT",
}


@dataclass(frozen=True)
class Ports:
    """TCP ports of every component, all bound on 127.0.0.1."""

    api: int = 3000
    mcp: int = 8000
    redis: int = 6379
    postgres: int = 5432
    nats: int = 4222
    nats_monitor: int = 8222
    ingest: int = 3001
    converter: int = 3002
    progress: int = 3003

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Ports:
        """Defaults, overridden by API_PORT, MCP_PORT, ... when set."""
        env = os.environ if environ is None else environ
        overrides = {field: _parse_port(env[var], var) for field, var in ENV_VARS.items() if env.get(var)}
        return cls(**overrides)

    @classmethod
    def free(cls) -> Ports:
        """Distinct ports that are free on 127.0.0.1 right now (for tests)."""
        return cls(**dict(zip(ENV_VARS, _free_ports(len(ENV_VARS)), strict=True)))

    def as_env(self) -> dict[str, str]:
        """All ports as their environment variables."""
        return {var: str(getattr(self, field)) for field, var in ENV_VARS.items()}

    def replace(self, **changes: int) -> Ports:
        """A copy with some ports changed."""
        return dataclasses.replace(self, **changes)


def free_ports(count: int) -> list[int]:
    """Distinct ports free on 127.0.0.1 right now."""
    return _free_ports(count) if count else []


def ensure_free(port_fields: Iterable[str], ports: Ports) -> None:
    """Raise PortInUseError for the first of these ports that something already listens on."""
    for field in port_fields:
        port = getattr(ports, field)
        if not is_free(port):
            raise PortInUseError(port, ENV_VARS[field])


def is_free(port: int) -> bool:
    """True when a server could bind 127.0.0.1:port (TIME_WAIT leftovers do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


# Parallel test workers (pytest-xdist) each pick ports from a range of their own (use_range), so
# two workers never choose the same free port between one's check and its server's bind. Their
# children (a `devstack up` a test runs) pick the kernel's way, from the ephemeral range, which a
# worker's range must stay below (Linux: 32768 and up).
_range: itertools.cycle[int] | None = None  # this process's range, round robin
_range_size = 0


def use_range(low: int, high: int) -> None:
    """Pick this process's free ports from low..high (round robin), not the kernel's."""
    global _range, _range_size
    _range, _range_size = itertools.cycle(range(low, high + 1)), high - low + 1


def _free_ports(count: int) -> list[int]:
    """Ports free right now: the kernel's choice, or the next free ones of use_range's range (round
    robin, so a port handed out is not handed out again soon)."""
    if _range is not None:
        found: list[int] = []
        for port in itertools.islice(_range, _range_size if count else 0):  # at most once round
            if is_free(port):
                found.append(port)
                if len(found) == count:
                    break
        if len(found) < count:
            raise StackError(f"fewer than {count} free ports in this process's range")
        return found
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _parse_port(value: str, var: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise ValueError(f"{var}={value!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"{var}={port} is outside 1..65535")
    return port
