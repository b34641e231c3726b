"""Hostile documents through the public API: each fails alone with its own code, quickly, while
another session's small documents keep converting (the short form of bench/hostile.py)."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

import httpx
import pytest

from contracts import errors
from devstack import Stack
from tests.documents import make_markdown
from tests.e2e.conftest import bearer
from tests.e2e.helpers import new_session, read_stream, submit
from tests.hostile import HOSTILE
from tests.servers import OWN

pytestmark = pytest.mark.skipif(
    not OWN, reason="the limits are the project's MCP server's; the official has none"
)


def small_jobs(base_url: str, folder: Path, count: int) -> list[str]:
    """Another session converts small documents one after another; the last event of each."""
    with httpx.Client(base_url=base_url, headers=bearer(new_session(base_url)), timeout=30) as other:
        return [
            read_stream(other, submit(other, make_markdown(folder / f"small-{n}.md"))["job_id"])[-1][1]
            for n in range(count)
        ]


def test_hostile_documents_fail_alone_with_their_codes(
    api: httpx.Client, stack: Stack, tmp_path: Path
) -> None:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        meanwhile = pool.submit(small_jobs, stack.urls.api, tmp_path, 4)
        jobs = {
            name: submit(api, maker(tmp_path / filename)) for name, (maker, filename, _) in HOSTILE.items()
        }
        endings = {name: read_stream(api, job["job_id"], timeout=120)[-1] for name, job in jobs.items()}
        assert meanwhile.result(timeout=180) == ["ConversionSucceeded"] * 4
    for name, (_, _, code) in HOSTILE.items():
        _, event, envelope = endings[name]
        assert event == "ConversionFailed", (name, envelope)
        facts = envelope["data"]
        assert facts["code"] == code, (name, facts)
        assert facts["recovery"] == errors.get(code).recovery and facts["stage"] == "converting"
