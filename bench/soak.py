"""Soak: N jobs of mixed documents through a plan of faults, then count what became of every job.

Starts a private stack (a three-node NATS cluster and two copies of every service unless told
otherwise), submits ``--jobs`` documents at a steady pace (Markdown, DOCX, HTML, and every sixth a
corrupt DOCX that must fail with E205; one job in eight is cancelled soon after it is submitted)
while a fault plan runs, one fault after another:

- ``kill-service``: SIGKILL of a random service copy (progress, ingest, converter, api), started
  again after a few seconds;
- ``kill-nats``: SIGKILL of NATS (a single server) or of a cluster node, the stream leader half of
  the time, started again after a few seconds;
- ``restart-valkey``, ``restart-postgres``: the server stopped, started again after a few seconds;
- ``mcp-outage``: the MCP server stopped for 10 to 150 s (times ``--scale``), then started.

Then it waits up to ``--settle`` seconds for every job to end and reads every job through the public
API (state, then the SSE history). It prints submitted, succeeded, failed by code, cancelled, lost
(no terminal event), duplicated (more than one), stuck (not ended after the settle period), SSE
histories with a gap or a repeat, and the faults injected. The plan, the documents and the
cancellations follow ``--seed``; the timing follows the machine. Asserts nothing; exits 1 when a job
was lost, duplicated or stuck, or a history had a gap or a repeat.

    .venv/bin/python -m bench.soak [--jobs 500] [--faults 24] [--seed 1] [--scale 1.0]
                                   [--nats-nodes 3] [--copies 2] [--settle 300]

Valkey keeps its append-only file, so a restart keeps the soak's session: it reads its jobs
afterwards in the session it submitted them in, as a user would.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nats

from contracts.subjects import STREAM
from devstack import SERVICES, Stack, StackError
from runtime import bus
from tests.e2e.helpers import rotating_client
from tests.faults import mixed_documents, private_stack, submit
from tests.outcomes import Tally, audit_all, settle

KINDS = ("kill-service", "kill-nats", "restart-valkey", "restart-postgres", "mcp-outage")
WEIGHTS = (6, 3, 2, 2, 2)
CANCEL_SHARE = 8  # one job in eight is cancelled
RESTART_PATIENCE_S = 600.0  # a component that started but is not ready yet (a loaded machine)


@dataclass(frozen=True)
class Fault:
    kind: str
    target: str  # a component, or "leader": the node leading the job stream when it strikes
    down_s: float
    gap_s: float  # quiet time before it


def plan(rng: random.Random, count: int, stack: Stack, scale: float) -> list[Fault]:
    """``count`` faults, each kind at least once (when count allows), the rest by WEIGHTS."""
    kinds = rng.sample(KINDS, min(count, len(KINDS)))
    kinds += rng.choices(KINDS, WEIGHTS, k=max(0, count - len(kinds)))
    services = [name for name in stack.components if name.rsplit("-", 1)[0] in SERVICES]
    nodes = [node.name for node in stack.nats_nodes]
    faults = []
    for kind in kinds:
        if kind == "kill-service":
            target = rng.choice(services)
        elif kind == "kill-nats":
            target = "leader" if len(nodes) > 1 and rng.random() < 0.5 else rng.choice(nodes)
        else:
            target = {"restart-valkey": "valkey", "restart-postgres": "postgres", "mcp-outage": "mcp"}[kind]
        down = rng.uniform(10, 150) * scale if kind == "mcp-outage" else rng.uniform(1, 5)
        faults.append(Fault(kind, target, round(down, 1), round(rng.uniform(1, 4), 1)))
    return faults


@dataclass
class Injector:
    """Runs the plan in a thread; ``done`` once every fault is over and everything runs again."""

    stack: Stack
    faults: list[Fault]
    log: list[str] = field(default_factory=list)  # one line per fault injected
    notes: list[str] = field(default_factory=list)  # components slow to come back
    done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        started = time.monotonic()
        try:
            for fault in self.faults:
                time.sleep(fault.gap_s)
                at = time.monotonic() - started
                target = self._strike(fault)
                self.log.append(f"{at:7.1f} s  {fault.kind:<16} {target:<10} down {fault.down_s:5.1f} s")
        finally:
            for name in self.stack.components:  # whatever happened, leave everything running
                self._bring_back(name)
            self.done.set()

    def _bring_back(self, name: str) -> None:
        """Start it again; on a machine too busy for the launcher's deadline, wait longer (logged)."""
        for _ in range(5):
            try:
                self.stack.start_component(name)
                return
            except StackError as error:
                self.notes.append(f"{name} slow to start again: {str(error).splitlines()[0]}")
            if self.stack.pid(name) is not None:  # it runs, it is only slow: wait for it
                deadline = time.monotonic() + RESTART_PATIENCE_S
                while not self.stack.ready(name) and time.monotonic() < deadline:
                    time.sleep(1)
                if self.stack.ready(name):
                    return
        raise StackError(f"{name} could not be started again")

    def _strike(self, fault: Fault) -> str:
        return self._outage(fault, leader(self.stack) if fault.target == "leader" else fault.target)

    def _outage(self, fault: Fault, target: str) -> str:
        if fault.kind in ("kill-service", "kill-nats"):
            self.stack.kill(target)
            while self.stack.pid(target) is not None:
                time.sleep(0.05)
        else:
            self.stack.stop_component(target)
        time.sleep(fault.down_s)
        self._bring_back(target)
        return target


def leader(stack: Stack) -> str:
    async def ask() -> str:
        nc = await nats.connect(bus.servers(stack.env()["NATS_URL"]))
        try:
            info = await nc.jetstream().stream_info(STREAM)
        finally:
            await nc.close()
        assert info.cluster is not None and info.cluster.leader
        return info.cluster.leader

    return asyncio.run(ask())


def cancel(api: httpx.Client, job_id: str) -> None:
    """Ask to cancel; retried through an outage (the job may well end otherwise first)."""
    for _ in range(20):
        try:
            if api.delete(f"/api/v1/jobs/{job_id}").status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)


def submit_all(api: httpx.Client, documents: list[Path], pace_s: float, rng: random.Random) -> list[str]:
    jobs = []
    for path in documents:
        job_id = submit(api, path, timeout=300)
        jobs.append(job_id)
        if rng.randrange(CANCEL_SHARE) == 0:
            cancel(api, job_id)
        time.sleep(pace_s)
    return jobs


@dataclass
class Report:
    tally: Tally
    faults: list[str]
    notes: list[str]
    seconds: float

    def text(self) -> str:
        lines = [self.tally.report(), f"faults      {len(self.faults)}", *self.faults]
        lines += [f"note        {note}" for note in self.notes]
        return "\n".join([*lines, f"took        {self.seconds:.0f} s"])


def soak(
    stack: Stack, jobs: int, faults: int, seed: int, scale: float, settle_s: float, folder: Path
) -> Report:
    """Run the soak on a running stack and count the outcomes."""
    rng = random.Random(seed)
    documents = mixed_documents(folder, jobs)
    session = httpx.post(f"{stack.urls.api}/api/v1/sessions", timeout=30).json()
    token = session["session_id"]
    the_plan = plan(rng, faults, stack, scale)
    budget = sum(f.gap_s + f.down_s + 3 for f in the_plan)  # about how long the plan takes
    injector = Injector(stack, the_plan)
    started = time.monotonic()
    thread = threading.Thread(target=injector.run, name="faults", daemon=True)
    thread.start()
    with rotating_client(stack, token) as api:
        job_ids = submit_all(api, documents, budget / max(jobs, 1), rng)
        injector.done.wait()
        settle(api, job_ids, settle_s)
        tally = audit_all(api, job_ids)
    return Report(tally, injector.log, injector.notes, time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--faults", type=int, default=None, help="default: one per 20 jobs, at least 5")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the MCP outages (10-150 s)")
    parser.add_argument("--nats-nodes", type=int, default=3)
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--settle", type=float, default=300.0)
    args = parser.parse_args()
    faults = args.faults if args.faults is not None else max(5, args.jobs // 20)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        home, docs = Path(tmp) / "stack", Path(tmp) / "docs"
        docs.mkdir()
        with private_stack(home, nats_nodes=args.nats_nodes, copies=args.copies) as stack:
            print(
                f"soak: {args.jobs} jobs, {faults} faults, seed {args.seed}, scale {args.scale}, "
                f"{args.nats_nodes} NATS node(s), {args.copies} copies of each service",
                flush=True,
            )
            report = soak(stack, args.jobs, faults, args.seed, args.scale, args.settle, docs)
    print(report.text())
    return 0 if report.tally.sound else 1


if __name__ == "__main__":
    sys.exit(main())
