"""``backup-verify``: the seed's "restore to a test environment", on demand.

Checks every part of a set and every upload file it names against the manifest (size, sha256, and
for uploads the name), restores the dump into a scratch PostgreSQL and compares its row counts,
its results' checksums and its newest archived event with the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from services.backup import domain
from services.backup.adapters import database, pgtools, scratch, store
from services.backup.settings import BackupSettings

DATABASE = "restored"


@dataclass
class Verdict:
    set_id: str
    problems: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self) -> str:
        head = f"backup-verify {self.set_id}: {'PASS' if self.ok else 'FAIL'}"
        facts = ", ".join(f"{k} {v}" for k, v in self.checked.items())
        return "\n".join([f"{head} ({facts})", *(f"  - {p}" for p in self.problems)])


async def verify(settings: BackupSettings, set_name: str | None = None) -> Verdict:
    backups = store.BackupDir(settings.backup_dir)
    folder = backups.set_folder(set_name) if set_name else backups.newest()
    manifest = store.read_manifest(folder)
    verdict = Verdict(manifest.set_id)
    if not manifest.complete:
        verdict.problems.append("the set is not complete")
    every = [*manifest.parts, *manifest.files]
    measured = {p.name: store.measure(backups.locate(folder, p.name)) for p in every}
    verdict.problems += domain.check_parts(every, measured) + domain.check_files(manifest.files)
    verdict.checked.update(parts=len(manifest.parts), files=len(manifest.files))
    if not verdict.problems:
        await _restore_dump(settings, folder, manifest, verdict)
    return verdict


async def _restore_dump(
    settings: BackupSettings, folder: Path, manifest: domain.Manifest, verdict: Verdict
) -> None:
    major = int(manifest.versions["postgres"].split(".")[0])
    bin_dir = pgtools.bin_dir_for(major * 10000, settings.postgres_bin_dir)
    async with scratch.server(bin_dir) as url:
        admin = await asyncpg.connect(url)
        await admin.execute(f"CREATE DATABASE {DATABASE}")
        await admin.close()
        target = url.rsplit("/", 1)[0] + f"/{DATABASE}"
        await pgtools.run([str(bin_dir / "pg_restore"), "--no-owner", "--exit-on-error", "-d", target,
                           str(folder / database.DUMP)])  # fmt: skip
        conn = await asyncpg.connect(target)
        try:
            rows = await database.count_rows(conn)
            matching = await database.results_matching(conn)
            newest = await database.max_archived_seq(conn)
        finally:
            await conn.close()
    verdict.problems += domain.check_rows(manifest.rows, rows)
    if matching != manifest.results_sha256_ok or matching != rows.get("results", 0):
        verdict.problems.append(f"results: {matching} of {rows.get('results', 0)} match their sha256")
    if newest != manifest.max_archived_seq:
        verdict.problems.append(f"event_archive reaches {newest}, manifest says {manifest.max_archived_seq}")
    verdict.checked.update(tables=len(rows), rows=sum(rows.values()), results=matching)
