"""Retention on the whole stack: what is older than JOB_RETENTION_DAYS goes, from every owner.

The suite's services purge every second (``JOB_RETENTION_INTERVAL_S``); the test makes one job
old by moving its rows' times and its upload's mtime back 31 days, and watches each service
remove its part. A job of the same moment left as it is must keep everything.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx

from devstack import Stack
from services.ingest.domain import content_path
from tests.documents import make_markdown
from tests.e2e.helpers import authorized, new_session, submit
from tests.waiting import wait_for, wait_for_async

AGO = "31 days"


def finished(api: httpx.Client, job_id: str) -> dict:
    return wait_for(
        lambda: (job := api.get(f"/api/v1/jobs/{job_id}").json())["status"] == "succeeded" and job,
        120,
        f"job {job_id} to succeed",
    )


def upload_of(env: dict[str, str], sent: Path) -> Path:
    """Where ingest stored ``sent`` (content-addressed)."""
    return Path(env["UPLOAD_DIR"]) / content_path(hashlib.sha256(sent.read_bytes()).hexdigest(), sent.name)


async def test_a_job_past_retention_is_purged_by_every_service_and_a_newer_one_stays(
    stack: Stack, tmp_path: Path
) -> None:
    env = stack.env()
    with authorized(stack.urls.api, new_session(stack.urls.api), timeout=30) as api:
        old = finished(api, submit(api, make_markdown(tmp_path / "old.md"))["job_id"])
        new = finished(api, submit(api, make_markdown(tmp_path / "new.md"))["job_id"])
        with make_markdown(tmp_path / "task.md").open("rb") as handle:
            task = api.post("/v1/convert/file/async", files={"files": ("task.md", handle)})
        assert task.status_code == 200, task.text
        task_id = task.json()["task_id"]
        assert upload_of(env, tmp_path / "old.md").exists() and upload_of(env, tmp_path / "new.md").exists()

        db = await asyncpg.connect(env["DATABASE_URL"])
        try:
            old_id, new_id = old["job_id"], new["job_id"]
            back = f"now() - interval '{AGO}'"
            await db.execute(
                f"UPDATE jobs SET created_at = {back}, updated_at = {back} WHERE job_id = $1", old_id
            )
            await db.execute(f"UPDATE results SET created_at = {back} WHERE job_id = $1", old_id)
            await db.execute(f"UPDATE compat_tasks SET created_at = {back} WHERE task_id = $1", task_id)
            long_ago = time.time() - 31 * 86_400
            os.utime(upload_of(env, tmp_path / "old.md"), (long_ago, long_ago))

            def rows(table: str, key: str, value: str) -> Callable[[], Awaitable[int]]:
                return lambda: db.fetchval(f"SELECT count(*) FROM {table} WHERE {key} = $1", value)

            for table, key, value, owner in [
                ("jobs", "job_id", old_id, "progress"),
                ("results", "job_id", old_id, "the converter"),
                ("compat_tasks", "task_id", task_id, "the API"),
            ]:
                await wait_for_async(_zero(rows(table, key, value)), 60, f"{owner}'s purge of {table}")
            await wait_for_async(
                lambda: not upload_of(env, tmp_path / "old.md").exists(), 60, "ingest's purge of the upload"
            )
            assert await rows("event_archive", "job_id", old_id)() == 0

            # every service has purged since the old job was made old: the new one is still whole
            assert await rows("jobs", "job_id", new_id)() == 1
            assert await rows("results", "job_id", new_id)() >= 1
            assert await rows("event_archive", "job_id", new_id)() >= 1
            assert upload_of(env, tmp_path / "new.md").exists()
        finally:
            await db.close()

        gone = api.get(f"/api/v1/jobs/{old['job_id']}")
        assert gone.status_code == 404 and gone.json()["code"] == "E104"
        assert api.get(f"/v1/status/poll/{task_id}").status_code == 404
        assert (
            api.get(f"/api/v1/jobs/{new['job_id']}/result", params={"format": "markdown"}).status_code == 200
        )


def _zero(count: Callable[[], Awaitable[int]]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await count() == 0

    return check
