"""Disaster-recovery drills on a stack of their own: `make backup`, then every process SIGKILLed and
every data folder (PostgreSQL, NATS, Valkey, uploads) deleted, then `make restore`. They print the
measured RTO (restore start to API healthy) and RPO."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from devstack import Ports
from devstack.layout import HOME_ENV, REPO_ROOT, Layout
from devstack.postgres import plan
from devstack.proc import PidRecord
from services.backup.adapters.store import read_manifest
from tests.documents import make_corrupt_docx, make_docx
from tests.e2e.helpers import read_stream
from tests.limits import lift_owner_limits, lift_rate_limits
from tests.waiting import wait_for

TERMINAL = {"ConversionSucceeded", "ConversionFailed", "UploadRejected", "JobCancelled"}
FORMATS = ("markdown", "html", "json")
JOB_TIMEOUT_S = 600.0  # a deadline, not a wait: a busy machine converts slowly


@dataclass
class Drill:
    home: Path
    backups: Path
    env: dict[str, str]
    api: httpx.Client
    database_url: str

    def run_make(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["make", "-s", *args], cwd=REPO_ROOT, env=self.env, capture_output=True,
                              text=True, timeout=timeout, check=False)  # fmt: skip

    def make(self, *args: str) -> str:
        done = self.run_make(*args)
        assert done.returncode == 0, f"make {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def backup(self) -> str:
        out = self.make("backup")
        return out.split("backup set ", 1)[1].split()[0]

    def restore(self, set_id: str, until: str | None = None) -> dict:
        args = ["restore", f"BACKUP={set_id}", *([f"UNTIL={until}"] if until else [])]
        return json.loads(self.make(*args).strip().splitlines()[-1])

    def pids(self) -> list[int]:
        records = (PidRecord.read(path) for path in (self.home / "run").glob("*.pid"))
        return [r.pid for r in records if r is not None and r.alive()]

    def disaster(self) -> tuple[float, float]:
        """SIGKILL every process of the stack (launcher first), delete every data folder; when it
        struck, and when the newest WAL file then archived was written."""
        layout = Layout(self.home)
        pids = self.pids()
        assert len(pids) >= 9, f"expected the launcher and 8 components, found {pids}"
        for pid in pids:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        struck = time.time()
        wait_for(lambda: not self.pids(), 30, "every process of the stack to be gone")
        archived = max((p.stat().st_mtime for p in (self.backups / "wal").iterdir()), default=0.0)
        folders = [plan(layout).data_dir, layout.nats, layout.valkey, layout.uploads]
        for folder in folders:
            shutil.rmtree(folder)
        assert not any(folder.exists() for folder in folders)
        return struck, archived


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drill]:
    home = tmp_path_factory.mktemp("drill")
    # PostgreSQL runs as nobody when the tests run as root: its WAL archive must be reachable
    backups = Path(tempfile.mkdtemp(prefix="docling-jobs-drill-", dir="/var/tmp"))
    backups.chmod(0o711)
    ports = Ports.free()
    # the stack starts three times: one copy of each service, one conversion worker, and start
    # deadlines that hold on a machine busy enough to take minutes over the MCP server
    env = {**os.environ, **ports.as_env(), HOME_ENV: str(home), "BACKUP_DIR": str(backups),
           "DEVSTACK_COPIES": "1", "DEVSTACK_MCP_SERVER": "own",
           "MCP_SERVER_WORKERS": "1", "DEVSTACK_READY_TIMEOUT_S": "900"}  # fmt: skip
    lift_rate_limits(env)
    lift_owner_limits(env)
    password = Layout(home).password(Layout(home).postgres_password)  # the one the stack will use
    database_url = f"postgresql://docling:{password}@127.0.0.1:{ports.postgres}/docling"
    base = f"http://127.0.0.1:{ports.api}"
    up = [str(REPO_ROOT / ".venv" / "bin" / "python"), "-m", "devstack"]
    try:
        started = subprocess.run(
            [*up, "up", "--detach"], env=env, cwd=REPO_ROOT, capture_output=True, text=True
        )
        assert started.returncode == 0, started.stderr
        token = httpx.post(f"{base}/api/v1/sessions", timeout=30).json()["session_id"]
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
            yield Drill(home, backups, env, api, database_url)
    finally:
        subprocess.run([*up, "down"], env=env, cwd=REPO_ROOT, capture_output=True)
        subprocess.run([*up, "clean"], env=env, cwd=REPO_ROOT, capture_output=True)
        shutil.rmtree(backups, ignore_errors=True)


def _submit(api: httpx.Client, path: Path) -> str:
    with path.open("rb") as handle:
        response = api.post("/api/v1/jobs", files={"file": (path.name, handle)})
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def _state(api: httpx.Client, job_id: str) -> dict:
    response = api.get(f"/api/v1/jobs/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()


def _reaches(api: httpx.Client, job_id: str, *statuses: str) -> dict:
    return wait_for(lambda: (s := _state(api, job_id))["status"] in statuses and s, JOB_TIMEOUT_S,
                    f"job {job_id} to reach {statuses}", every=0.2)  # fmt: skip


def _events(api: httpx.Client, job_id: str) -> list[tuple[int, str, dict]]:
    """The job's history from id 0: the SSE replay of an ended job, the JSON form of a running one."""
    if _state(api, job_id)["status"] in ("succeeded", "failed", "cancelled", "rejected"):
        return read_stream(api, job_id, last_event_id=0)
    page = api.get(
        f"/api/v1/jobs/{job_id}/events", params={"after": 0}, headers={"Accept": "application/json"}
    )
    return [(e["id"], e["event"], e["data"]) for e in page.json()["events"]]


def _results(api: httpx.Client, job_id: str, events: list[tuple[int, str, dict]]) -> dict[str, bytes]:
    """Each result, checked byte for byte against the sha256 its ConversionSucceeded announced."""
    announced = next(data for _, kind, data in events if kind == "ConversionSucceeded")["data"][
        "result_sha256"
    ]
    results = {}
    for fmt in FORMATS:
        body = api.get(f"/api/v1/jobs/{job_id}/result", params={"format": fmt}).content
        assert hashlib.sha256(body).hexdigest() == announced[fmt], f"{job_id} {fmt} differs from its sha256"
        results[fmt] = body
    return results


def _snapshot(api: httpx.Client, job_id: str) -> dict:
    state, events = _state(api, job_id), _events(api, job_id)
    results = _results(api, job_id, events) if state["status"] == "succeeded" else {}
    return {"state": state, "events": events, "results": results}


async def _terminal_counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT j.job_id::text AS job_id, count(a.seq) FILTER (WHERE a.event_type = ANY($1)) AS n "
            "FROM jobs j LEFT JOIN event_archive a USING (job_id) GROUP BY j.job_id",
            sorted(TERMINAL),
        )
    finally:
        await conn.close()
    return {r["job_id"]: r["n"] for r in rows}


async def _db_now(url: str) -> datetime:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SELECT clock_timestamp()")
    finally:
        await conn.close()


async def _switch_wal(url: str) -> str:
    """Close the current WAL file (what archive_timeout does); its name."""
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SELECT pg_walfile_name(pg_switch_wal())")
    finally:
        await conn.close()


async def _archived_through(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
    finally:
        await conn.close()


def _report(label: str, report: dict, set_id: str, drill: Drill, struck: tuple[float, float]) -> None:
    taken = read_manifest(drill.backups / "sets" / set_id).created_at.timestamp()
    print(
        f"\n[{label}] RTO {report['rto_s']:.1f} s (restore start to API healthy); "
        f"RPO {struck[0] - taken:.1f} s from set {set_id} alone, {struck[0] - struck[1]:.1f} s with the "
        f"WAL archive (its newest file to the disaster); restore report {json.dumps(report)}"
    )


def test_full_restore_brings_back_every_job_its_history_and_results(drill: Drill, tmp_path: Path) -> None:
    api = drill.api
    succeeded = [_submit(api, make_docx(tmp_path / f"report-{n}.docx")) for n in range(2)]
    failed = _submit(api, make_corrupt_docx(tmp_path / "broken.docx"))
    for job_id in succeeded:
        _reaches(api, job_id, "succeeded")
    _reaches(api, failed, "failed")
    os.killpg(PidRecord.read(drill.home / "run" / "mcp.pid").pid, signal.SIGSTOP)  # conversions now hang
    in_flight = _submit(api, make_docx(tmp_path / "in-flight.docx"))
    _reaches(api, in_flight, "converting")
    cancelled = _submit(api, make_docx(tmp_path / "cancelled.docx"))
    _reaches(api, cancelled, "stored", "converting")
    assert api.delete(f"/api/v1/jobs/{cancelled}").status_code == 202
    _reaches(api, cancelled, "cancelled")
    ended = [*succeeded, failed, cancelled]
    before = {job_id: _snapshot(api, job_id) for job_id in [*ended, in_flight]}

    set_id = drill.backup()
    struck = drill.disaster()
    report = drill.restore(set_id)
    _report("full restore", report, set_id, drill, struck)

    assert report["event_log"] == "rebuild"  # NATS' store was deleted: rebuilt from the archive
    for job_id in ended:
        assert _snapshot(api, job_id) == before[job_id], f"job {job_id} did not come back as it was"
    resumed = _reaches(api, in_flight, "succeeded")  # the MCP server runs again: the job goes on
    history = _events(api, in_flight)
    assert history[: len(before[in_flight]["events"])] == before[in_flight]["events"]
    _results(api, in_flight, history)
    assert resumed["last_event_id"] == history[-1][0]
    new = _submit(api, make_docx(tmp_path / "after.docx"))
    _reaches(api, new, "succeeded")
    counts = asyncio.run(_terminal_counts(drill.database_url))
    assert set(counts) >= {*ended, in_flight, new}
    assert all(n == 1 for n in counts.values()), f"jobs without exactly one terminal event: {counts}"
    for job_id in [*ended, in_flight, new]:
        assert sum(kind in TERMINAL for _, kind, _ in _events(api, job_id)) == 1


def test_point_in_time_restore_keeps_the_first_job_and_drops_the_second(drill: Drill, tmp_path: Path) -> None:
    api = drill.api
    set_id = drill.backup()
    first = _submit(api, make_docx(tmp_path / "first.docx"))
    _reaches(api, first, "succeeded")
    before = _snapshot(api, first)
    between = asyncio.run(_db_now(drill.database_url))
    second = _submit(api, make_docx(tmp_path / "second.docx"))
    _reaches(api, second, "succeeded")
    closed = asyncio.run(_switch_wal(drill.database_url))  # the second job's WAL archived: PITR must drop it
    wait_for(
        lambda: asyncio.run(_archived_through(drill.database_url)) >= closed, 60, f"WAL {closed} archived"
    )

    struck = drill.disaster()
    report = drill.restore(set_id, until=between.astimezone(UTC).isoformat())
    _report("point in time", report, set_id, drill, struck)

    assert _snapshot(api, first) == before
    assert api.get(f"/api/v1/jobs/{second}").status_code == 404
    assert second not in asyncio.run(_terminal_counts(drill.database_url))


def test_backup_verify_passes_on_a_fresh_set_and_fails_on_a_corrupted_file(drill: Drill) -> None:
    pool = drill.backups / "files"
    earlier = {p: p.stat().st_ino for p in pool.rglob("*") if p.is_file()}
    set_id = drill.backup()
    assert earlier and all(p.stat().st_ino == inode for p, inode in earlier.items())  # not copied again
    verified = drill.make("backup-verify")
    print(f"\n{verified.strip()}")
    assert f"backup-verify {set_id}: PASS" in verified

    manifest = read_manifest(drill.backups / "sets" / set_id)
    victim = drill.backups / manifest.files[0].name  # an upload in the shared pool
    content = bytearray(victim.read_bytes())
    content[len(content) // 2] ^= 0xFF  # one flipped byte, same size
    victim.write_bytes(bytes(content))
    failed = drill.run_make("backup-verify")
    print(failed.stdout.strip())
    assert failed.returncode != 0
    assert f"backup-verify {set_id}: FAIL" in failed.stdout
    assert f"{manifest.files[0].name}: sha256" in failed.stdout
