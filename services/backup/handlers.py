"""One function per command of ``python -m services.backup``: find the set, run the step, say what
became of it. The steps themselves are ``backup``, ``verify`` and ``restore``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from services.backup import backup, restore, verify
from services.backup.bootstrap import Deps


@dataclass(frozen=True)
class Outcome:
    text: str
    ok: bool = True


def _report(report: object) -> Outcome:
    return Outcome(json.dumps(report))


def _moment(until: str | None) -> datetime | None:
    """``--until``: an ISO 8601 time with zone (a malformed one is a ValueError, the command fails)."""
    return datetime.fromisoformat(until) if until else None


async def take_backup(deps: Deps) -> Outcome:
    folder = await backup.take(deps.settings)
    return Outcome(f"backup set {folder.name} complete: {folder}")


async def verify_set(deps: Deps, set_name: str | None) -> Outcome:
    verdict = await verify.verify(deps.settings, set_name)
    return Outcome(verdict.render(), verdict.ok)


def restore_files(deps: Deps, set_name: str) -> Outcome:
    folder = deps.backups.set_folder(set_name)
    return _report({"files_copied": restore.restore_files(deps.settings, folder)})


def restore_postgres(deps: Deps, set_name: str, pgdata: str, until: str | None) -> Outcome:
    folder = deps.backups.set_folder(set_name)
    restore.lay_down_postgres(folder, Path(pgdata), deps.backups.wal, _moment(until), None)
    return _report({"pgdata": pgdata, "until": until})


async def restore_dump(deps: Deps, set_name: str) -> Outcome:
    await restore.restore_dump(deps.settings, deps.backups.set_folder(set_name))
    return _report({"restored": "dump"})


async def reconcile(deps: Deps, set_name: str, until: str | None) -> Outcome:
    folder = deps.backups.set_folder(set_name)
    return _report(await restore.reconcile_event_log(deps.settings, folder, _moment(until) is not None))


async def projections(deps: Deps, set_name: str) -> Outcome:
    return _report(await restore.rebuild_projections(deps.settings, deps.backups.set_folder(set_name)))
