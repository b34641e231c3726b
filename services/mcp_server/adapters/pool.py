"""Worker processes seen from the server: start, feed, time out, kill, replace and recycle them.

One asyncio task per slot takes jobs from a shared queue and runs them on its worker, so a slow or crashing
document only ever costs its own slot. Workers fork from a forkserver that has imported docling once.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from services.mcp_server.adapters import metrics
from services.mcp_server.adapters.worker import Job, WorkerConfig
from services.mcp_server.domain import ConvertedDocument, DocumentFailed, WorkerLost
from services.mcp_server.settings import McpServerSettings

log = logging.getLogger(__name__)
WORKER_MODULE = "services.mcp_server.adapters.worker"
Progress = Callable[[str, int, int], None]


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([WORKER_MODULE])
        return context
    return multiprocessing.get_context("spawn")


def _worker_main(conn: Connection, config: WorkerConfig) -> None:
    from services.mcp_server.adapters import worker

    try:
        worker.run(conn, config)
    except (BrokenPipeError, EOFError):  # the server let this worker go (a timeout, a recycle)
        logging.getLogger(__name__).info("worker: the server closed its pipe; exiting")
    except Exception:  # logged as one JSON line, not multiprocessing's bare traceback on stderr
        logging.getLogger(__name__).exception("worker failed")
        raise SystemExit(1) from None


class WorkerProcess:
    """One live worker: its process, its pipe, and a thread that turns pipe messages into queue items."""

    def __init__(self, context: multiprocessing.context.BaseContext, config: WorkerConfig) -> None:
        self.inbox: asyncio.Queue[tuple] = asyncio.Queue()
        self.done_count = 0
        self.info: dict = {}
        self.conn, self._child = context.Pipe(duplex=True)
        self.process = context.Process(
            target=_worker_main,
            args=(self._child, config),
            daemon=True,
            name=f"mcp-worker-{config.worker_id}",
        )

    async def launch(self) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.to_thread(
            self.process.start
        )  # the first start waits for the forkserver to import docling
        self._child.close()  # our copy: the worker's exit must read as EOF here
        threading.Thread(target=self._read, args=(loop,), daemon=True).start()

    def _read(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                loop.call_soon_threadsafe(self.inbox.put_nowait, ("exited",))
                return
            loop.call_soon_threadsafe(self.inbox.put_nowait, message)

    async def ready(self, timeout: float) -> dict:
        message = await asyncio.wait_for(self.inbox.get(), timeout)
        if message[0] != "ready":
            raise WorkerLost(f"worker exited while starting (exit code {await self.exit_code()})")
        self.info = message[1]
        return self.info

    async def run(self, job: Job, limits: Limits, progress: Progress) -> tuple[ConvertedDocument, int]:
        try:
            self.conn.send(job)
        except OSError:
            raise WorkerLost("the worker for this document was gone; it was replaced") from None
        deadline = asyncio.get_running_loop().time() + limits.timeout_s
        while True:
            message = await self._next_message(deadline, limits)
            kind = message[0]
            if kind == "progress" and message[1] == job.job_id:
                _report(progress, *message[2:])
            elif kind == "done" and message[1] == job.job_id:
                self.done_count += 1
                return message[2], message[3]
            elif kind == "failed" and message[1] == job.job_id:
                self.done_count += 1
                raise DocumentFailed(message[2])
            elif kind == "exited":
                raise _lost(await self.exit_code(), limits)

    async def _next_message(self, deadline: float, limits: Limits) -> tuple:
        """The worker's next message; meanwhile its memory is sampled and the clock watched."""
        loop = asyncio.get_running_loop()
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                await self.kill()
                raise WorkerLost(
                    f"[E210] conversion took longer than {limits.timeout_s:g} s; its worker was replaced",
                    "timeout",
                )
            try:
                return await asyncio.wait_for(self.inbox.get(), min(remaining, SAMPLE_S))
            except TimeoutError:
                if rss_of(self.process.pid) > limits.memory_bytes:
                    await self.kill()
                    raise WorkerLost(
                        f"[E209] the document needed more than {limits.memory_bytes // 2**20} MB of "
                        "memory to convert; its worker was replaced",
                        "memory",
                    ) from None

    async def exit_code(self) -> int | None:
        await asyncio.to_thread(self.process.join, 5)
        return self.process.exitcode

    async def kill(self) -> None:
        if self.process.pid is not None:
            self.process.kill()
            await asyncio.to_thread(self.process.join, 5)
        self.conn.close()

    async def stop(self, grace: float = 5.0) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        await asyncio.to_thread(self.process.join, grace)
        if self.process.is_alive():
            self.process.kill()
            await asyncio.to_thread(self.process.join, grace)
        self.conn.close()


SAMPLE_S = 0.25  # how often a converting worker's resident memory is read


@dataclass(frozen=True)
class Limits:
    """What one conversion may use: wall time, resident memory, CPU seconds (enforced in the worker)."""

    timeout_s: float
    memory_bytes: int
    cpu_s: int


def rss_of(pid: int | None) -> int:
    """Resident bytes of a process (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _lost(exit_code: int | None, limits: Limits) -> WorkerLost:
    if exit_code == -signal.SIGXCPU:
        return WorkerLost(
            f"[E210] the document needed more than {limits.cpu_s} s of CPU time to convert; "
            "its worker was replaced",
            "cpu",
        )
    return WorkerLost(f"the worker converting this document crashed (exit code {exit_code}); it was replaced")


@dataclass
class _Request:
    job: Job
    progress: Progress
    future: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class WorkerPool:
    def __init__(self, settings: McpServerSettings) -> None:
        self.settings = settings
        self.context = _context()
        self.queue: asyncio.Queue[_Request] = asyncio.Queue()
        self.workers: dict[int, WorkerProcess | None] = {}
        self.busy: set[int] = set()
        self.restarts = 0
        self.last_info: dict = {}
        self._ids = itertools.count(1)
        self._tasks: list[asyncio.Task] = []
        self.limits = Limits(settings.doc_timeout_s, settings.worker_memory_mb * 2**20, settings.doc_cpu_s)

    def start(self) -> None:
        for slot in range(self.settings.workers):
            self.workers[slot] = None
            self._tasks.append(asyncio.create_task(self._serve_slot(slot), name=f"mcp-slot-{slot}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(w.stop() for w in self.workers.values() if w is not None))

    async def convert(self, path: str, progress: Progress) -> ConvertedDocument:
        request = _Request(Job(next(self._ids), path), progress)
        self.queue.put_nowait(request)
        metrics.QUEUE_DEPTH.set(self.queue.qsize())
        return await request.future

    @property
    def ready_count(self) -> int:
        return sum(1 for w in self.workers.values() if w is not None)

    def health(self) -> dict:
        return {
            "configured": self.settings.workers,
            "ready": self.ready_count,
            "busy": len(self.busy),
            "queued": self.queue.qsize(),
            "restarts": self.restarts,
            "pids": [w.info.get("pid") for w in self.workers.values() if w is not None],
            "pdf_pipeline": self.last_info.get("pdf_pipeline"),
            "standard_pdf_pipeline_error": self.last_info.get("standard_error"),
        }

    async def _serve_slot(self, slot: int) -> None:
        while True:
            await self._live_worker(slot)  # warm before the next job arrives
            request = await self.queue.get()
            metrics.QUEUE_DEPTH.set(self.queue.qsize())
            if request.future.done():  # the caller went away while queued
                continue
            self.busy.add(slot)
            try:
                worker = await self._live_worker(slot)
                _report(request.progress, "started", 0, 0)  # the caller's time queued ends here
                await self._run(slot, worker, request)
            finally:
                self.busy.discard(slot)

    async def _live_worker(self, slot: int) -> WorkerProcess:
        worker = self.workers[slot]
        if worker is not None and not worker.process.is_alive():  # died between jobs
            self._replace(slot, "crash")
            await worker.kill()
            worker = None
        return worker or await self._start_worker(slot)

    async def _run(self, slot: int, worker: WorkerProcess, request: _Request) -> None:
        rss = 0
        try:
            document, rss = await worker.run(request.job, self.limits, request.progress)
            _settle(request.future, document)
        except WorkerLost as exc:
            self._replace(slot, exc.reason)
            await worker.kill()
            _settle(request.future, exc)
            return
        except DocumentFailed as exc:
            _settle(request.future, exc)
            if str(exc).startswith("[E209]"):  # out of memory inside the worker: not worth keeping
                self._replace(slot, "memory")
                await worker.kill()
                return
        metrics.WORKER_RSS.labels(slot=str(slot)).set(rss)
        if (
            worker.done_count >= self.settings.worker_max_docs
            or rss > self.settings.worker_max_rss_mb * 2**20
        ):
            self._replace(slot, "recycle")
            await worker.stop()

    def _replace(self, slot: int, reason: str) -> None:
        log.warning("replacing worker", extra={"slot": slot, "reason": reason})
        self.workers[slot] = None
        self.restarts += 1
        metrics.WORKERS_READY.set(self.ready_count)
        metrics.WORKER_RESTARTS.labels(reason=reason).inc()

    async def _start_worker(self, slot: int) -> WorkerProcess:
        delay = 1.0
        while True:
            config = WorkerConfig(
                worker_id=slot,
                pdf_pipeline=self.settings.pdf_pipeline,
                pdf_do_ocr=self.settings.pdf_do_ocr,
                threads=self.settings.worker_threads,
                test_faults=self.settings.test_faults,
                log_level=self.settings.log_level,
                doc_cpu_s=self.settings.doc_cpu_s,
                memory_mb=self.settings.worker_memory_mb,
            )
            worker = WorkerProcess(self.context, config)
            try:
                await worker.launch()
                self.last_info = await worker.ready(self.settings.worker_start_timeout_s)
            except (WorkerLost, TimeoutError, OSError) as exc:
                log.error("worker failed to start", extra={"slot": slot, "error": str(exc) or "timeout"})
                await worker.kill()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            self.workers[slot] = worker
            metrics.WORKERS_READY.set(self.ready_count)
            return worker


def _report(progress: Progress, stage: str, done: int, total: int) -> None:
    try:
        progress(stage, done, total)
    except Exception:  # a progress listener never costs the conversion
        log.debug("progress listener failed", exc_info=True)


def _settle(future: asyncio.Future, outcome: object) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
