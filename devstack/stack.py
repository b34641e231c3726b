"""Stack: start, probe and stop the components on 127.0.0.1."""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType

from devstack import cluster, postgres
from devstack.components import (
    ALL,
    Component,
    Context,
    Service,
    build,
    copy_names,
    default_mcp_command,
    select,
)
from devstack.control import remove_state
from devstack.errors import StackError
from devstack.layout import Layout
from devstack.ports import HOST, Ports, ensure_free, free_ports
from devstack.proc import PidRecord, signal_process, spawn, terminate
from runtime.urls import with_password

STOP_TIMEOUT = 15.0
READY_TIMEOUT_ENV = "DEVSTACK_READY_TIMEOUT_S"
POLL_INTERVAL = 0.2


class StackCancelled(StackError):
    """start() was cancelled (Ctrl-C / SIGTERM) before the stack was ready."""


@dataclass(frozen=True)
class StackUrls:
    """Addresses of the running stack, without passwords (they are printed and kept in stack.json;
    ``Stack.env()`` has the ones with passwords)."""

    api: str  # base URL of the API service (web page at /, REST at /api/v1, OpenAPI at /schema)
    mcp: str
    nats: str
    redis: str
    database: str


@dataclass
class _Running:
    component: Component
    popen: subprocess.Popen[bytes]


class Stack:
    """The local stack: infrastructure, MCP server and services, each in its own process group."""

    def __init__(
        self,
        home: Path,
        ports: Ports | None = None,
        components: str | Sequence[str] = ALL,
        mcp_command: Sequence[str] | None = None,
        copies: int = 1,
        nats_nodes: int = 1,
        free_cluster_ports: bool = False,
    ) -> None:
        """``nats_nodes`` > 1 runs a NATS cluster (see devstack/cluster.py); its other nodes listen
        on the ports after NATS_PORT / NATS_MONITOR_PORT, or on free ones with ``free_cluster_ports``."""
        self.home = Path(home).resolve()
        self.ports = ports if ports is not None else Ports.from_env()
        chosen = _select(components)
        self.nats_nodes = cluster.plan(nats_nodes, self.ports, free=free_cluster_ports)
        extra = tuple(n for n in copy_names(copies) if n.rsplit("-", 1)[0] in chosen)
        self.components: tuple[str, ...] = _with_nodes(chosen, self.nats_nodes) + extra
        self.copy_ports = dict(zip(extra, free_ports(len(extra)), strict=True))
        self.layout = Layout(self.home)
        self.mcp_command: tuple[str, ...] = tuple(mcp_command or default_mcp_command())
        self._ctx = Context(
            self.layout, self.ports, self.env(), self.mcp_command, self.copy_ports, self.nats_nodes
        )
        self._running: dict[str, _Running] = {}
        self._cancelled = False

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start every component in order and wait until each is ready; on failure stop them all."""
        self.layout.create()
        atexit.register(self.stop)  # safety net: never leave children behind at interpreter exit
        idle = [name for name in self.components if self.pid(name) is None]
        ensure_free([f for name in idle for f in self._component(name).port_fields], self.ports)
        try:
            for name in self.components:
                self.start_component(name)
        except BaseException:
            self.stop()
            raise
        self._write_info()

    def stop(self) -> None:
        """Stop every running component (SIGTERM, then SIGKILL): the project's services all at once
        (each may be finishing a message, for up to ``STOP_TIMEOUT``), then the rest in reverse start
        order, so nothing loses a dependency while it still works."""
        services = [n for n, r in self._running.items() if isinstance(r.component, Service)]
        if services:
            with ThreadPoolExecutor(max_workers=len(services)) as pool:
                list(pool.map(self.stop_component, services))
        for name in reversed(list(self._running)):
            self.stop_component(name)
        self.layout.stack_info.unlink(missing_ok=True)
        atexit.unregister(self.stop)

    def purge(self) -> None:
        """Stop, then delete the state dir and PostgreSQL's data (also when it lives outside home)."""
        self.stop()
        remove_state(self.layout)

    def cancel(self) -> None:
        """Make a start() in progress give up soon (safe to call from a signal handler)."""
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- single components (fault tests) ---------------------------------------------------
    def start_component(self, name: str) -> None:
        """Start one component (again) and wait until it is ready; no-op when it runs."""
        if self.pid(name) is not None:
            return
        component = self._component(name)
        ensure_free(component.port_fields, self.ports)
        component.prepare()
        popen = spawn(component.argv(), env=component.env(), cwd=component.cwd(),
                      log_path=self.layout.log(name), run_as=component.run_as)  # fmt: skip
        self._running[name] = _Running(component, popen)
        self._write_pid(name, popen.pid)
        self._wait_ready(component, popen)
        component.after_ready()

    def stop_component(self, name: str) -> None:
        """Stop one component gracefully (its stop signal, SIGKILL after a timeout)."""
        running = self._running.pop(name, None)
        if running is None:
            return
        c = running.component
        terminate(
            running.popen.pid,
            sig=c.stop_signal,
            group=c.signal_group,
            timeout=STOP_TIMEOUT,
            popen=running.popen,
        )
        self.layout.pid_file(name).unlink(missing_ok=True)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send sig to the component's whole process group, without waiting."""
        pid = self.pid(name)
        if pid is None:
            raise StackError(f"{name} is not running")
        signal_process(pid, sig, group=True)

    def ready(self, name: str) -> bool:
        """The component runs and its readiness probe passes now."""
        return self.pid(name) is not None and self._component(name).is_ready()

    def pid(self, name: str) -> int | None:
        """Pid of the component's main process, None when it is not running."""
        self._check_name(name)
        running = self._running.get(name)
        if running is None or running.popen.poll() is not None:
            return None
        return running.popen.pid

    def gave_up(self) -> list[str]:
        """Running components whose liveness says they cannot recover by themselves."""
        return [
            name
            for name, r in list(self._running.items())
            if r.popen.poll() is None and r.component.gave_up()
        ]

    def exited(self) -> dict[str, int]:
        """Components that were started and have since exited: name -> exit code."""
        codes = {name: r.popen.poll() for name, r in self._running.items()}
        return {name: code for name, code in codes.items() if code is not None}

    # -- addresses -------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        """Environment variables the services get on top of os.environ: the addresses with the
        generated passwords (made at first use, kept mode 0600 in the state dir's secrets/)."""
        p, layout = self.ports, self.layout
        return {
            "NATS_URL": with_password(
                cluster.servers_url(self.nats_nodes), layout.password(layout.nats_password)
            ),
            "NATS_STREAM_REPLICAS": str(len(self.nats_nodes)),
            "REDIS_HOST": HOST,
            "REDIS_PORT": str(p.redis),
            "REDIS_PASSWORD": layout.password(layout.valkey_password),
            "DATABASE_URL": with_password(
                postgres.database_url(p.postgres), layout.password(layout.postgres_password)
            ),
            "MCP_SERVER_URL": f"http://{HOST}:{p.mcp}/mcp",
            "MCP_SERVER_TOKEN_FILE": str(self.layout.mcp_token),  # generated at first start (0600)
            "UPLOAD_DIR": str(self.layout.uploads),
            "MCP_CACHE_DIR": str(self.layout.mcp_cache),
            "API_PORT": str(p.api),
            "INGEST_PORT": str(p.ingest),
            "CONVERTER_PORT": str(p.converter),
            "PROGRESS_PORT": str(p.progress),
            "PYTHONUNBUFFERED": "1",
        }

    @property
    def api_urls(self) -> list[str]:
        """Every API instance: the first, then its copies."""
        copies = [port for name, port in self.copy_ports.items() if name.startswith("api-")]
        return [self.urls.api, *(f"http://{HOST}:{port}" for port in copies)]

    @property
    def urls(self) -> StackUrls:
        p = self.ports
        return StackUrls(
            api=f"http://{HOST}:{p.api}",
            mcp=f"http://{HOST}:{p.mcp}/mcp",
            nats=cluster.servers_url(self.nats_nodes),
            redis=f"redis://{HOST}:{p.redis}/0",
            database=postgres.database_url(p.postgres),
        )

    # -- internals -------------------------------------------------------------------------
    def _component(self, name: str) -> Component:
        self._check_name(name)
        return build(name, self._ctx)

    def _check_name(self, name: str) -> None:
        if name not in self.components:
            raise StackError(f"{name!r} is not part of this stack ({', '.join(self.components)})")

    def _wait_ready(self, component: Component, popen: subprocess.Popen[bytes]) -> None:
        log = self.layout.log(component.name)
        limit = ready_timeout(component)
        deadline = time.monotonic() + limit
        while not component.is_ready():
            code = popen.poll()
            if code is not None:
                raise StackError(
                    f"{component.name} exited with code {code} before it was ready; see {log}\n{_tail(log)}"
                )
            if self._cancelled:
                raise StackCancelled(f"start cancelled while waiting for {component.name}")
            if time.monotonic() > deadline:
                raise StackError(
                    f"{component.name} was not ready within {limit:.0f} s; see {log}\n{_tail(log)}"
                )
            time.sleep(POLL_INTERVAL)

    def _write_pid(self, name: str, pid: int) -> None:
        record = PidRecord.of(pid)
        if record is not None:
            record.write(self.layout.pid_file(name))

    def _write_info(self) -> None:
        info = {
            "components": list(self.components),
            "ports": asdict(self.ports),
            "urls": asdict(self.urls),
            "copies": self.copy_ports,
            "api_urls": self.api_urls,
            "nats_nodes": [asdict(node) for node in self.nats_nodes],
        }
        self.layout.stack_info.write_text(json.dumps(info, indent=2) + "\n")


def ready_timeout(component: Component) -> float:
    """The component's start deadline, or ``DEVSTACK_READY_TIMEOUT_S`` for every component when set
    (a machine so busy that the MCP server needs more than its 180 s)."""
    value = os.environ.get(READY_TIMEOUT_ENV)
    return float(value) if value else component.ready_timeout


def _select(spec: str | Sequence[str]) -> tuple[str, ...]:
    chosen = select(spec)
    if not chosen:
        raise StackError("no components selected")
    return chosen


def _with_nodes(chosen: tuple[str, ...], nodes: tuple[cluster.NatsNode, ...]) -> tuple[str, ...]:
    """The chosen components with the cluster's other NATS nodes right after the first."""
    if "nats" not in chosen:
        return chosen
    at = chosen.index("nats") + 1
    return (*chosen[:at], *(node.name for node in nodes[1:]), *chosen[at:])


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "\n".join(f"    {line}" for line in text)
