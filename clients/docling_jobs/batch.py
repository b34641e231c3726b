"""A CLI run's conversions: ``-j N`` at a time in one session, each followed to its end and written.

Each file: upload, follow its events (its ``Tracker`` shows them), read the final state, download
the result and write it (a new file is created exclusively, so a file that appeared meanwhile is
kept; ``--force`` replaces through a temporary file). ``cancel_all`` (Ctrl-C) asks the server to
cancel every job that has not ended; the workers are daemon threads and need not be waited for.
"""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from docling_jobs.client import Client, raise_if_failed
from docling_jobs.display import Display, Tracker
from docling_jobs.errors import ApiError, ConversionFailed, DoclingJobsError
from docling_jobs.plan import Task


@dataclass(frozen=True)
class Outcome:
    source: Path
    target: Path | None
    converted: bool
    job_id: str | None = None
    code: str | None = None
    message: str | None = None
    recovery: str | None = None
    size: int = 0


class Batch:
    def __init__(self, client: Client, fmt: str, display: Display, stdout: BinaryIO, force: bool) -> None:
        self.client, self.fmt, self.display, self.stdout, self.force = client, fmt, display, stdout, force
        self.stopping = threading.Event()
        self._active: set[str] = set()
        self._lock = threading.Lock()

    def run(self, tasks: list[Task], concurrency: int) -> list[Outcome]:
        """Every task's outcome, in the tasks' order. A KeyboardInterrupt reaches the caller."""
        todo: queue.Queue[tuple[int, Task]] = queue.Queue()
        for item in enumerate(tasks):
            todo.put(item)
        done: queue.Queue[tuple[int, Outcome]] = queue.Queue()
        for _ in range(max(1, min(concurrency, len(tasks)))):
            threading.Thread(target=self._work, args=(todo, done), daemon=True).start()
        outcomes: dict[int, Outcome] = {}
        while len(outcomes) < len(tasks):
            index, outcome = done.get(timeout=None)
            outcomes[index] = outcome
        return [outcomes[i] for i in range(len(tasks))]

    def under_way(self, job_id: str) -> None:
        """A job was submitted and has not ended: ``cancel_all`` cancels it."""
        with self._lock:
            self._active.add(job_id)

    def cancel_all(self) -> int:
        """Stop starting files and cancel the jobs under way; how many were asked to cancel."""
        self.stopping.set()
        with self._lock:
            active = sorted(self._active)
        for job_id in active:
            try:
                self.client.cancel(job_id)
            except DoclingJobsError:
                pass  # it ended meanwhile, or the server is away: nothing more to do
        return len(active)

    def _work(self, todo: queue.Queue[tuple[int, Task]], done: queue.Queue[tuple[int, Outcome]]) -> None:
        while not self.stopping.is_set():
            try:
                index, task = todo.get_nowait()
            except queue.Empty:
                return
            done.put((index, self._one(task)))

    def _one(self, task: Task) -> Outcome:
        tracker = self.display.track(task.source.name)
        job_id = None
        try:
            job_id = self.client.submit(task.source).job_id
            self.under_way(job_id)
            return self._follow(task, job_id, tracker)
        except ConversionFailed as failed:
            return self._failed(task, tracker, job_id, failed.code, failed.message, failed.recovery)
        except ApiError as error:
            return self._failed(task, tracker, job_id, error.code, error.detail, error.recovery)
        except (DoclingJobsError, OSError) as error:
            return self._failed(task, tracker, job_id, type(error).__name__, str(error), None)
        finally:
            with self._lock:
                self._active.discard(job_id or "")

    def _follow(self, task: Task, job_id: str, tracker: Tracker) -> Outcome:
        for event in self.client.events(job_id, on_state=tracker.on_state, on_notice=tracker.on_notice):
            tracker.on_event(event)
        job = self.client.job(job_id)
        raise_if_failed(job)
        content = self.client.result(job_id, self.fmt).content
        self._write(task.target, content)
        tracker.complete()
        self.display.finish(tracker, f"done -> {task.target or 'stdout'}")
        return Outcome(task.source, task.target, True, job_id, size=len(content))

    def _failed(self, task: Task, tracker: Tracker, job_id: str | None, code: str, message: str,
                recovery: str | None) -> Outcome:  # fmt: skip
        self.display.finish(tracker, f"failed {code}")
        return Outcome(task.source, task.target, False, job_id, code, message, recovery)

    def _write(self, target: Path | None, content: bytes) -> None:
        if target is None:
            self.stdout.write(content)
            self.stdout.flush()
        elif self.force:
            partial = target.with_name(f".{target.name}.partial")
            partial.write_bytes(content)
            os.replace(partial, target)
        else:
            with target.open("xb") as handle:  # FileExistsError if it appeared since the plan
                handle.write(content)
