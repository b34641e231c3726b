"""Test helpers on the real stack: a converter built in-process, and reading the log."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import asyncpg
import nats
import redis.asyncio as aioredis

from contracts.envelope import Envelope
from contracts.events import UploadStored
from contracts.subjects import STREAM, job_events, outcome_subject
from runtime import bus
from services.converter import handlers
from services.converter.adapters.checkpoint_store import CheckpointStore
from services.converter.adapters.circuit import SharedCircuit
from services.converter.adapters.mcp import docling_session, probe
from services.converter.adapters.results import ResultStore
from services.converter.adapters.saved import read_saved_json
from services.converter.breaker import Config
from tests.waiting import wait_for_async


@asynccontextmanager
async def converter(env: dict[str, str]) -> AsyncIterator[handlers.Deps]:
    """A converter of its own (own NATS connection, own pool), as a separate copy would be."""
    broker = bus.broker(env["NATS_URL"], f"test-converter-{uuid.uuid4().hex[:6]}")
    await broker.connect()
    pool = await asyncpg.create_pool(env["DATABASE_URL"], min_size=1, max_size=4)
    redis = aioredis.Redis(
        host=env["REDIS_HOST"], port=int(env["REDIS_PORT"]), password=env["REDIS_PASSWORD"]
    )
    token = Path(env["MCP_SERVER_TOKEN_FILE"]).read_text(encoding="utf-8").strip()
    try:
        yield handlers.Deps(
            open_session=partial(docling_session, env["MCP_SERVER_URL"], 120.0, token),
            read_saved_json=read_saved_json,
            results=ResultStore(pool),
            publish=lambda event: bus.publish(broker, event),
            server_url=env["MCP_SERVER_URL"],
            circuit=SharedCircuit(
                f"test-{uuid.uuid4().hex[:8]}",
                Config(),
                redis,
                partial(probe, env["MCP_SERVER_URL"], 5.0, token),
            ),
            checkpoints=CheckpointStore(pool),
            has_outcome=lambda job_id: bus.has_outcome(broker, job_id),
        )
    finally:
        await redis.aclose()
        await pool.close()
        await broker.stop()


def stored_upload(env: dict[str, str], make: Callable[[Path], Path]) -> UploadStored:
    """An upload as ingest would have stored it (not published: only the test's converters see it)."""
    job_id = str(uuid.uuid4())
    path = make(Path(env["UPLOAD_DIR"]) / f"test-{job_id}.docx")
    data = path.read_bytes()
    return UploadStored(
        job_id=job_id,
        source="test",
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        path=str(path),
        filename=path.name,
    )


class Log:
    """Reads the JOBS stream directly."""

    def __init__(self, nc: nats.NATS) -> None:
        self.nc, self.js = nc, nc.jetstream()

    async def count(self, subject: str) -> int:
        info = await self.js.stream_info(STREAM, subjects_filter=subject)
        return sum((info.state.subjects or {}).values())

    async def outcomes(self, job_id: str) -> list[Envelope]:
        return await self.walk(outcome_subject(job_id))

    async def job_event_types(self, job_id: str) -> list[str]:
        return [envelope.event_type for envelope in await self.walk(job_events(job_id))]

    async def walk(self, subject: str) -> list[Envelope]:
        """Every message on ``subject``, oldest first, read one by one (direct get, next by subject)."""
        found, seq = [], 0
        while True:
            try:
                msg = await self.js.get_msg(STREAM, seq=seq + 1, next=True, subject=subject)
            except nats.js.errors.NotFoundError:
                return found
            found.append(Envelope.from_bytes(msg.data))
            seq = msg.seq

    async def settled(
        self,
        durables: tuple[str, ...] = ("ingest", "converter", "converter-cancel", "progress"),
        timeout: float = 60.0,
    ) -> None:
        """Wait until every consumer has processed everything in the stream."""
        await wait_for_async(lambda: self._idle(durables), timeout, "consumers to settle")

    async def last_seq(self) -> int:
        """The stream sequence of the newest event in the log."""
        return (await self.js.stream_info(STREAM)).state.last_seq

    async def projected_through(self, seq: int, timeout: float = 60.0) -> None:
        """A barrier: the stack's progress copies have projected and acknowledged every event up to
        ``seq`` (its ack floor is past it), so the read models and the SSE buffer hold them all."""

        async def caught_up() -> bool:
            return (await self.js.consumer_info(STREAM, "progress")).ack_floor.stream_seq >= seq

        await wait_for_async(caught_up, timeout, f"the progress projection to reach stream sequence {seq}")

    async def _idle(self, durables: tuple[str, ...]) -> bool:
        for durable in durables:
            info = await self.js.consumer_info(STREAM, durable)
            if info.num_pending or info.num_ack_pending:
                return False
        return True
