"""Progress with Redis away: the durable projection goes on, and the outage is logged once."""

from __future__ import annotations

import logging

import pytest
import redis.exceptions

from services.progress import handlers


class FlakyBuffer:
    def __init__(self) -> None:
        self.down = True
        self.added: list[list] = []

    async def add(self, entries: list) -> int:
        if self.down:
            raise redis.exceptions.ConnectionError("refused")
        self.added.append(entries)
        return len(entries)


async def test_buffer_failures_are_logged_once_per_outage(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    archived: list[list] = []

    async def project(pool: object, batch: list, floor: int, lookup: object) -> list:
        archived.append(batch)
        return [f"entry-{len(archived)}"]

    monkeypatch.setattr(handlers.postgres, "project", project)
    buffer = FlakyBuffer()
    deps = handlers.Deps(pool=None, buffer=buffer)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger=handlers.log.name):
        for _ in range(3):
            await handlers.on_job_events([], 0, deps)
        buffer.down = False
        for _ in range(2):
            await handlers.on_job_events([], 0, deps)
    assert len(archived) == 5  # the archive got every batch, Redis or not
    assert buffer.added == [["entry-4"], ["entry-5"]]
    assert [r.getMessage() for r in caplog.records] == [
        "could not update the SSE buffer; readers use the archive",
        "SSE buffer updates work again",
    ]
