"""The entrypoint: command-line arguments into a handler call.

``python -m services.backup backup | verify [--set S] | restore-files | restore-postgres | reconcile
| projections`` (the restore steps one by one, for deployments other than the embedded one)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from services.backup import bootstrap, handlers
from services.backup.adapters.pgtools import ToolError
from services.backup.bootstrap import Deps


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    deps = bootstrap.build()
    try:
        outcome = _call(args, deps)
    except (ToolError, OSError, ValueError) as error:
        print(f"{args.command} failed: {error}", file=sys.stderr)
        return 1
    print(outcome.text)
    return 0 if outcome.ok else 1


def _call(args: argparse.Namespace, deps: Deps) -> handlers.Outcome:
    """The command's handler, with the command's arguments."""
    if args.command == "backup":
        return asyncio.run(handlers.take_backup(deps))
    if args.command == "verify":
        return asyncio.run(handlers.verify_set(deps, args.set))
    if args.command == "restore-files":
        return handlers.restore_files(deps, args.set)
    if args.command == "restore-postgres":
        return handlers.restore_postgres(deps, args.set, args.pgdata, args.until)
    if args.command == "restore-dump":
        return asyncio.run(handlers.restore_dump(deps, args.set))
    if args.command == "reconcile":
        return asyncio.run(handlers.reconcile(deps, args.set, args.until))
    return asyncio.run(handlers.projections(deps, args.set))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services.backup", description="Backups of docling-jobs.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("backup", help="take one backup set under BACKUP_DIR, then apply retention")
    sub.add_parser(
        "verify", help="check a set (default: the newest) and restore its dump into a scratch PostgreSQL"
    )
    sub.choices["verify"].add_argument("--set", default=None)
    for name, text in (
        ("restore-files", "copy the set's upload files back into UPLOAD_DIR"),
        ("restore-postgres", "replace a stopped server's data folder with the set's base backup"),
        ("restore-dump", "no base backup possible: replace the database's objects with the set's dump"),
        ("reconcile", "PostgreSQL and NATS up, services down: re-project or rebuild the event log"),
        ("projections", "services up: rebuild the Redis projections, put the set's sessions back"),
    ):
        step = sub.add_parser(name, help=text)
        step.add_argument("--set", required=True)
        if name in ("restore-postgres", "reconcile"):
            step.add_argument("--until", default=None, help="ISO 8601 time with zone")
        if name == "restore-postgres":
            step.add_argument("--pgdata", required=True)
    return parser
