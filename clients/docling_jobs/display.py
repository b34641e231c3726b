"""How the CLI shows its files' progress, chosen by where standard error goes.

- A terminal: one rich progress bar per file (interpolated progress, ticked every 100 ms; the stage;
  "Using backup connection" when that file's job is followed by polling), drawn to fit the width.
- Anything else (a file, a pipe): plain lines, one when a file's stage changes and one at its end
  ("report.docx: 100% done"), never ``\\r`` frames.
- ``--quiet``: nothing (failures and the summary are the caller's).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn

from docling_jobs.events import JobEvent
from docling_jobs.interpolate import TICK_S, Interpolator

EVENT_STAGES = {
    "JobSubmitted": "queued",
    "UploadStored": "stored",
    "UploadRejected": "rejected",
    "ConversionStarted": "converting",
    "ConversionSucceeded": "done",
    "ConversionFailed": "failed",
    "JobCancelled": "cancelled",
}


def stage_of(event: JobEvent, current: str) -> str:
    """The event's own ``stage`` field, else the stage its type implies, else ``current``."""
    if event.type == "ConversionDeferred":  # the job waits, then goes on by itself
        if event.data.get("reason") == "owner_busy":  # fair sharing, not a failing server
            return "waiting: your other conversions are running"
        return "waiting for server"
    stage = event.data.get("stage")
    return stage.replace("_", " ") if isinstance(stage, str) else EVENT_STAGES.get(event.type, current)


def progress_of(body: dict[str, Any]) -> float:
    value = body.get("progress")
    return float(value) if isinstance(value, int | float) else 0.0


class Tracker:
    """One file's displayed state: fed by the event reader, read by a display."""

    def __init__(self, name: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.name, self.stage, self.notice = name, "uploading", ""
        self.interpolator = Interpolator(clock)
        self.lock = threading.Lock()
        self.changed: Callable[[Tracker], None] = lambda tracker: None

    def on_event(self, event: JobEvent) -> None:
        with self.lock:
            self.stage = stage_of(event, self.stage)
            self.interpolator.on_server(progress_of(event.data))
            if event.type == "ConversionSucceeded":
                self.interpolator.on_complete()
        self.changed(self)

    def on_state(self, job: dict[str, Any]) -> None:
        """A job state (the stream's ``sync``, a poll): its stage counts only when it is news (the
        projection may lag behind the events already shown)."""
        with self.lock:
            stage, progress = job.get("stage"), progress_of(job)
            if (
                isinstance(stage, str)
                and stage
                and (self.stage == "uploading" or progress > self.interpolator.target)
            ):
                self.stage = stage.replace("_", " ")
            self.interpolator.on_server(progress)
        self.changed(self)

    def on_notice(self, text: str) -> None:
        with self.lock:
            self.notice = text
        self.changed(self)

    def complete(self) -> None:
        with self.lock:
            self.interpolator.on_complete()
            self.stage = "done"
        self.changed(self)

    @property
    def percent(self) -> int:
        return int(self.interpolator.displayed)


class Display(Protocol):
    def track(self, name: str) -> Tracker: ...
    def finish(self, tracker: Tracker, line: str) -> None: ...
    def __enter__(self) -> Display: ...
    def __exit__(self, *exc: object) -> None: ...


class QuietDisplay:
    def track(self, name: str) -> Tracker:
        return Tracker(name)

    def finish(self, tracker: Tracker, line: str) -> None:
        pass

    def __enter__(self) -> QuietDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class PlainDisplay(QuietDisplay):
    """A line per stage change and per notice; ``finish`` prints the file's last line."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._said: dict[int, tuple[str, str]] = {}

    def track(self, name: str) -> Tracker:
        tracker = Tracker(name)
        tracker.changed = self._changed
        return tracker

    def _say(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def _changed(self, tracker: Tracker) -> None:
        now = (tracker.stage, tracker.notice)
        before = self._said.get(id(tracker), ("", ""))
        self._said[id(tracker)] = now
        if now[1] != before[1]:
            self._say(f"{tracker.name}: {tracker.notice}")
        if now[0] != before[0] and tracker.stage != "done":
            self._say(f"{tracker.name}: {tracker.stage}")

    def finish(self, tracker: Tracker, line: str) -> None:
        self._say(f"{tracker.name}: {tracker.percent}% {line}")


class LiveDisplay(QuietDisplay):
    """rich bars, one per file, ticked every 100 ms by a thread of its own."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.fields[name]}", markup=False),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[stage]}", markup=False),
            console=console,
        )
        self._tasks: dict[int, tuple[Tracker, TaskID]] = {}
        self._stopped = threading.Event()
        self._ticker = threading.Thread(target=self._run, name="progress-ticker", daemon=True)

    def track(self, name: str) -> Tracker:
        tracker = Tracker(name)
        task = self.progress.add_task(name, total=100, name=name, stage=tracker.stage)
        self._tasks[id(tracker)] = (tracker, task)
        return tracker

    def finish(self, tracker: Tracker, line: str) -> None:
        _, task = self._tasks.pop(id(tracker))
        self.progress.update(task, completed=tracker.interpolator.displayed, stage=line)

    def __enter__(self) -> LiveDisplay:
        self.progress.start()
        self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._ticker.join()
        self.progress.stop()

    def _run(self) -> None:
        while not self._stopped.wait(TICK_S):
            for tracker, task in list(self._tasks.values()):
                with tracker.lock:
                    shown = tracker.interpolator.tick()
                    stage = f"{tracker.stage}  {tracker.notice}".strip()
                self.progress.update(task, completed=shown, stage=stage)


def display_for(console: Console, quiet: bool) -> Display:
    if quiet:
        return QuietDisplay()
    return LiveDisplay(console) if console.is_terminal else PlainDisplay(console)
