"""Jobs are never stuck: poison messages, a SIGKILLed converter, redeliveries, rebuilds (real stack)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import httpx

from contracts.envelope import Envelope
from contracts.events import JobSubmitted
from contracts.subjects import STREAM, event_subject
from devstack import Stack
from runtime import bus
from tests.documents import MAKERS, make_docx
from tests.e2e.helpers import copies, held
from tests.integration.bus import Log, stored_upload
from tests.waiting import wait_for_async

TERMINAL = {"succeeded", "failed", "rejected", "cancelled"}


async def job_state(db: asyncpg.Pool, job_id: str) -> dict | None:
    row = await db.fetchrow("SELECT * FROM jobs WHERE job_id = $1", job_id)
    return dict(row) if row else None


async def ended(db: asyncpg.Pool, job_id: str, timeout: float = 60.0) -> dict:
    async def check() -> dict | None:
        state = await job_state(db, job_id)
        return state if state and state["status"] in TERMINAL else None

    return await wait_for_async(check, timeout, f"job {job_id} to end")


async def test_poison_message_ends_its_job_as_failed(stack_env, db, broker) -> None:
    """The results insert fails for this job on every delivery: the job fails with E501."""
    upload = stored_upload(stack_env, make_docx)
    trigger = f"poison_{uuid.uuid4().hex[:8]}"
    await db.execute(f"""
        CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS
          $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;
        CREATE TRIGGER {trigger} BEFORE INSERT ON results FOR EACH ROW
          WHEN (NEW.job_id = '{upload.job_id}') EXECUTE FUNCTION {trigger}();""")
    try:
        await bus.publish(broker, upload)
        state = await ended(db, upload.job_id, timeout=90)
    finally:
        await db.execute(f"DROP TRIGGER {trigger} ON results; DROP FUNCTION {trigger}();")
    assert (state["status"], state["error_code"]) == ("failed", "E501")
    assert state["error_message"] and state["error_recovery"]


async def test_a_converter_killed_mid_conversion_is_replaced(
    stack: Stack, stack_env, db, broker, log: Log
) -> None:
    upload = stored_upload(stack_env, make_docx)
    converters = [name for name in stack.components if name.split("-")[0] == "converter"]
    with held(stack, "mcp"):  # the conversion call waits on a frozen server: mid-conversion, however fast
        await bus.publish(broker, upload)
        await wait_for_async(
            lambda: _has(log, upload.job_id, "ConversionStarted"), 60, "the conversion to start"
        )
        try:
            for name in converters:  # SIGKILL whichever copy has it, mid-conversion: no ack, no outcome
                stack.kill(name)
            await wait_for_async(lambda: _gone(stack, converters), 30, "the converters to die")
            assert await log.outcomes(upload.job_id) == []
        finally:
            for name in converters:  # new copies; JetStream redelivers after the ack wait
                stack.start_component(name)
    state = await ended(db, upload.job_id, timeout=90)
    assert state["status"] == "succeeded", (state["error_code"], state["error_message"], state["stage"])
    assert [o.event_type for o in await log.outcomes(upload.job_id)] == ["ConversionSucceeded"]


async def _has(log: Log, job_id: str, event_type: str) -> bool:
    return event_type in await log.job_event_types(job_id)


async def _gone(stack: Stack, names: list[str]) -> bool:
    return all(stack.exited().get(name) == -9 for name in names)  # reaped, killed by SIGKILL


async def snapshot(db: asyncpg.Pool, log: Log, redis_url: str, job_ids: list[str]) -> dict:
    import redis.asyncio as aioredis

    from contracts import keys

    client = aioredis.from_url(redis_url, decode_responses=True)
    try:
        out = {}
        for job_id in job_ids:
            out[job_id] = {
                "job": await job_state(db, job_id),
                "archive": [
                    dict(r)
                    for r in await db.fetch(
                        "SELECT seq, job_seq, event_id FROM event_archive WHERE job_id = $1 ORDER BY job_seq",
                        job_id,
                    )
                ],
                "results": [
                    dict(r)
                    for r in await db.fetch(
                        "SELECT format, sha256 FROM results WHERE job_id = $1 ORDER BY format", job_id
                    )
                ],
                "buffer": await client.zrange(keys.sse_events(job_id), 0, -1, withscores=True),
                "history": await client.hgetall(keys.sse_history(job_id)),
            }
        return out
    finally:
        await client.aclose()


async def finished_jobs(stack: Stack, stack_env, broker, db, tmp_path: Path) -> list[str]:
    """One job for every event type: succeeded, failed, cancelled, rejected."""
    ids, api_url = [], stack.urls.api
    token = httpx.post(f"{api_url}/api/v1/sessions", timeout=30).json()["session_id"]
    with httpx.Client(base_url=api_url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as api:
        for name, content in (
            ("ok.md", MAKERS["md"](tmp_path / "ok.md").read_bytes()),
            ("bad.docx", b"PK\x03\x04 not a zip" * 30),
        ):
            ids.append(api.post("/api/v1/jobs", files={"file": (name, content)}).json()["job_id"])
        with held(stack, *copies(stack, "ingest")):  # cancelled before it can be converted
            slow = api.post(
                "/api/v1/jobs", files={"file": ("c.docx", make_docx(tmp_path / "c.docx").read_bytes())}
            )
            ids.append(slow.json()["job_id"])
            assert api.delete(f"/api/v1/jobs/{ids[-1]}").status_code == 202
            await ended(db, ids[-1])
    rejected = JobSubmitted(
        job_id=str(uuid.uuid4()),
        source="test",
        filename="x.md",
        content_type="text/markdown",
        size_bytes=1,
        sha256="0" * 64,
        staging_object="missing-object",
        owner="",
    )
    await bus.publish(broker, rejected)
    ids.append(rejected.job_id)
    for job_id in ids:
        await ended(db, job_id)
    return ids


async def test_redelivered_and_duplicated_events_change_nothing(
    stack: Stack, stack_env, broker, db, log, tmp_path: Path
) -> None:
    job_ids = await finished_jobs(stack, stack_env, broker, db, tmp_path)
    await log.settled()
    redis_url = f"redis://:{stack_env['REDIS_PASSWORD']}@127.0.0.1:{stack_env['REDIS_PORT']}/0"
    before = await snapshot(db, log, redis_url, job_ids)
    types = {t for job_id in job_ids for t in await log.job_event_types(job_id)}
    assert types >= {
        "JobSubmitted",
        "UploadStored",
        "UploadRejected",
        "ConversionStarted",
        "ConversionProgressed",
        "ConversionSucceeded",
        "ConversionFailed",
        "JobCancelRequested",
        "JobCancelled",
    }
    counts = {job_id: await log.count(f"jobs.{job_id}.>") for job_id in job_ids}

    copies = 0
    for job_id in job_ids:  # every event again, newest first, under a fresh Nats-Msg-Id (no dedup)
        rows = await db.fetch(
            "SELECT envelope FROM event_archive WHERE job_id = $1 ORDER BY job_seq DESC", job_id
        )
        for row in rows:
            envelope = Envelope.model_validate_json(row["envelope"])
            terminal = envelope.event_type in {
                "ConversionSucceeded",
                "ConversionFailed",
                "JobCancelled",
                "UploadRejected",
            }
            await log.js.publish(
                event_subject(job_id, envelope.event_type, terminal),
                envelope.to_bytes(),
                stream=STREAM,
                headers={"Nats-Msg-Id": str(uuid.uuid4())},
            )
            copies += 1
    await log.settled()
    again = await snapshot(db, log, redis_url, job_ids)
    changed = {
        (job_id, part)
        for job_id in job_ids
        for part in before[job_id]
        if again[job_id][part] != before[job_id][part]
    }
    assert not changed, {k: (before[k[0]][k[1]], again[k[0]][k[1]]) for k in sorted(changed)}
    after = {job_id: await log.count(f"jobs.{job_id}.>") for job_id in job_ids}
    assert sum(after.values()) - sum(counts.values()) == copies, "a service emitted new events for old ones"


async def test_rebuild_reproduces_the_live_projections(
    stack: Stack, stack_env, broker, db, log, tmp_path: Path
) -> None:
    job_ids = await finished_jobs(stack, stack_env, broker, db, tmp_path)
    await log.settled()
    redis_url = f"redis://:{stack_env['REDIS_PASSWORD']}@127.0.0.1:{stack_env['REDIS_PORT']}/0"
    everything = [str(r["job_id"]) for r in await db.fetch("SELECT job_id FROM jobs")]
    live = await snapshot(db, log, redis_url, everything)
    done = subprocess.run(
        [sys.executable, "-m", "services.progress.rebuild"],
        env={**os.environ, **stack_env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["jobs"] == len(everything) and report["events"] > 0
    rebuilt = await snapshot(db, log, redis_url, everything)
    # The jobs table of every job; Redis of this test's own jobs only: other tests damage buffers on
    # purpose (deleting one mid-job), and the rebuild repairing those is the point of it.
    compared = {(job_id, "job") for job_id in everything} | {
        (job_id, part) for job_id in job_ids for part in ("archive", "results", "buffer", "history")
    }
    changed = {key for key in compared if rebuilt[key[0]][key[1]] != live[key[0]][key[1]]}
    assert not changed, {k: (live[k[0]][k[1]], rebuilt[k[0]][k[1]]) for k in sorted(changed)}
    assert set(job_ids) <= set(everything)
