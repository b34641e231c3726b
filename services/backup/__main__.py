"""``python -m services.backup backup | verify [--set S] | restore-files | restore-postgres | reconcile
| projections`` (the restore steps one by one, for deployments other than the embedded one)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from runtime import logs
from services.backup import backup, restore, verify
from services.backup.adapters.pgtools import ToolError
from services.backup.adapters.store import BackupDir
from services.backup.settings import BackupSettings


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = BackupSettings()
    logs.configure("backup", settings.log_level)
    try:
        return _run(args, settings)
    except (ToolError, OSError, ValueError) as error:
        print(f"{args.command} failed: {error}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, settings: BackupSettings) -> int:
    if args.command == "backup":
        folder = asyncio.run(backup.take(settings))
        print(f"backup set {folder.name} complete: {folder}")
        return 0
    if args.command == "verify":
        verdict = asyncio.run(verify.verify(settings, args.set))
        print(verdict.render())
        return 0 if verdict.ok else 1
    folder = BackupDir(settings.backup_dir).set_folder(args.set)
    until = datetime.fromisoformat(args.until) if getattr(args, "until", None) else None
    if args.command == "restore-files":
        report: object = {"files_copied": restore.restore_files(settings, folder)}
    elif args.command == "restore-postgres":
        restore.lay_down_postgres(folder, Path(args.pgdata), BackupDir(settings.backup_dir).wal, until, None)
        report = {"pgdata": args.pgdata, "until": args.until}
    elif args.command == "restore-dump":
        asyncio.run(restore.restore_dump(settings, folder))
        report = {"restored": "dump"}
    elif args.command == "reconcile":
        report = asyncio.run(restore.reconcile_event_log(settings, folder, until is not None))
    else:
        report = asyncio.run(restore.rebuild_projections(settings, folder))
    print(json.dumps(report))
    return 0


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


if __name__ == "__main__":
    sys.exit(main())
