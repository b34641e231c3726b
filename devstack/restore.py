"""`python -m devstack restore --set <set> [--until <time>]`: the embedded stack back from a backup.

Stops whatever runs, lays down the set's base backup (WAL replayed from the archive to its end, or to
``--until``) and its upload files, starts the infrastructure alone to reconcile the event log with
the restored database, then the whole stack, and rebuilds the Redis projections. Prints a JSON
report whose ``rto_s`` is the time from the start to the API answering healthy.
"""

from __future__ import annotations

import asyncio
import json
import pwd
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from devstack import control, launcher, postgres
from devstack.components import ALL
from devstack.layout import Layout
from devstack.ports import Ports
from devstack.stack import Stack

if TYPE_CHECKING:
    from services.backup.settings import BackupSettings


def restore(layout: Layout, ports: Ports, set_name: str, until: datetime | None) -> int:
    from services.backup import restore as steps
    from services.backup.adapters.store import BackupDir

    started = time.monotonic()
    control.down(layout)
    settings = _settings(Stack(layout.home, ports, ALL))
    folder = BackupDir(settings.backup_dir).set_folder(set_name)
    layout.create()
    pg = postgres.plan(layout)
    owner = None if pg.run_as is None else _ids(pg.run_as.user)
    steps.lay_down_postgres(folder, pg.data_dir, BackupDir(settings.backup_dir).wal, until, owner)
    report: dict[str, object] = {"set": folder.name, "until": until.isoformat() if until else None}
    report["files_copied"] = steps.restore_files(settings, folder)
    infra = Stack(layout.home, ports, "infra")
    infra.start()
    try:
        asyncio.run(steps.wait_promoted(settings.database_url))
        report.update(asyncio.run(steps.reconcile_event_log(settings, folder, until is not None)))
    finally:
        infra.stop()
    if launcher.up_detached(layout.home, ports, ALL) != 0:
        return 1
    report["rto_s"] = round(time.monotonic() - started, 1)  # up_detached returns once the API is healthy
    report["projections"] = asyncio.run(steps.rebuild_projections(settings, folder))
    print(json.dumps(report))
    return 0


def _settings(stack: Stack) -> BackupSettings:
    from services.backup.settings import BackupSettings  # lazily: devstack runs before `make install`

    env = stack.env()
    return BackupSettings(
        database_url=env["DATABASE_URL"],
        nats_url=env["NATS_URL"],
        redis_host=env["REDIS_HOST"],
        redis_port=int(env["REDIS_PORT"]),
        redis_password=env["REDIS_PASSWORD"],
        upload_dir=Path(env["UPLOAD_DIR"]),
    )


def _ids(user: str) -> tuple[int, int]:
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid
