"""A three-node NATS cluster (DEVSTACK_NATS_NODES=3): every node holds a replica of the job stream and
the upload bucket, and SIGKILL of the node leading the stream in the middle of a burst of jobs ends
every job exactly once (the ``cluster`` stack: the whole system on three NATS nodes).

Then a short run of bench/soak.py on the same stack: 60 mixed jobs (some fail, some are cancelled)
through 4 faults of 4 different kinds, MCP outages scaled down to 0.5-7.5 s. Nothing may be lost,
duplicated or stuck, and no SSE history may have a gap or a repeat."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from bench.soak import soak
from contracts.subjects import STAGING_BUCKET, STREAM
from devstack import Stack
from runtime import bus
from tests.faults import client, mixed_documents, private_stack, submit
from tests.outcomes import audit_all, settle
from tests.waiting import wait_for

NODES = ("nats", "nats-2", "nats-3")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A whole stack of its own on a three-node NATS cluster (one copy of each service), which the
    tests break and put back together."""
    with private_stack(tmp_path_factory.mktemp("cluster"), nats_nodes=3) as stack:
        yield stack


async def _placement(stack: Stack, stream: str) -> tuple[str | None, set[str], int]:
    """(leader, every node with a replica, configured replicas) of a stream."""
    nc = await nats.connect(bus.servers(stack.env()["NATS_URL"]))
    try:
        info = await nc.jetstream().stream_info(stream)
    finally:
        await nc.close()
    assert info.cluster is not None
    peers = {peer.name for peer in info.cluster.replicas or []}
    return info.cluster.leader, peers | {info.cluster.leader}, info.config.num_replicas


def placement(stack: Stack, stream: str) -> tuple[str | None, set[str], int]:
    return asyncio.run(_placement(stack, stream))


def test_the_stream_and_the_upload_bucket_have_a_replica_on_every_node(cluster: Stack) -> None:
    assert cluster.env()["NATS_URL"].count(",") == 2
    assert cluster.env()["NATS_STREAM_REPLICAS"] == "3"
    for stream in (STREAM, f"OBJ_{STAGING_BUCKET}"):
        leader, nodes, replicas = placement(cluster, stream)
        assert (replicas, nodes) == (3, set(NODES)) and leader in NODES, (stream, leader, nodes)


def test_killing_the_stream_leader_during_a_burst_ends_every_job_once(cluster: Stack, tmp_path: Path) -> None:
    documents = mixed_documents(tmp_path, 18)
    with client(cluster.urls.api) as api:
        jobs = [submit(api, path) for path in documents[:9]]  # in flight when the leader dies
        leader, _, _ = placement(cluster, STREAM)
        assert leader in NODES
        cluster.kill(leader)
        wait_for(lambda: cluster.exited().get(leader) == -9, 10, f"{leader} to die")
        jobs += [submit(api, path) for path in documents[9:]]  # during and after the election
        new_leader = wait_for(
            lambda: placement(cluster, STREAM)[0], 30, "a new leader", tolerate=(Exception,)
        )
        assert new_leader != leader
        cluster.start_component(leader)  # back: it catches up from the others
        settle(api, jobs, timeout=120)
        tally = audit_all(api, jobs)
    assert tally.sound, tally.report()
    assert tally.submitted == 18 and not tally.failed.get("E107"), rejections(cluster)
    assert tally.submitted == 18 and tally.succeeded == 15 and dict(tally.failed) == {"E205": 3}, (
        tally.report()
    )
    assert placement(cluster, STREAM)[1] == set(NODES)


def test_a_short_soak_loses_duplicates_and_strands_nothing(cluster: Stack, tmp_path: Path) -> None:
    report = soak(cluster, jobs=60, faults=4, seed=7, scale=0.05, settle_s=180, folder=tmp_path)
    print(report.text())
    assert len(report.faults) == 4, report.text()
    assert report.tally.submitted == 60 and report.tally.sound, report.text()
    assert report.tally.succeeded > 0 and report.tally.failed["E205"] > 0, report.text()


def rejections(stack: Stack) -> str:
    """Why ingest rejected uploads, from its log (for a failure message)."""
    lines = stack.layout.log("ingest").read_text(errors="replace").splitlines()
    return "\n".join(line for line in lines if "reject" in line or "Error" in line)[-4000:]
