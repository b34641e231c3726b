"""The CLI's progress bar: interpolated progress, the current stage and the backup notice.

A background thread ticks the interpolator every 100 ms and redraws the line when it changed; the
reader's callbacks (``on_event``, ``on_state``, ``on_notice``) feed it from the main thread. Closing
it draws the last state and ends the line. Disabled (``-q``), it draws and prints nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TextIO

from clients.docling_jobs.events import JobEvent
from clients.docling_jobs.interpolate import TICK_S, Interpolator

WIDTH = 30
EVENT_STAGES = {
    "JobSubmitted": "queued",
    "UploadStored": "stored",
    "UploadRejected": "rejected",
    "ConversionStarted": "converting",
    "ConversionSucceeded": "done",
    "ConversionFailed": "failed",
    "JobCancelled": "cancelled",
}


def render(progress: float, stage: str, width: int = WIDTH) -> str:
    """``\\r[#####.....]  42% stage``: whole percents, rounded down."""
    percent = int(progress)
    filled = width * percent // 100
    return f"\r[{'#' * filled}{'.' * (width - filled)}] {percent:3d}% {stage.replace('_', ' '):<20}"


def stage_of(event: JobEvent, current: str) -> str:
    """The event's own ``stage`` field, else the stage its type implies, else ``current``."""
    if event.type == "ConversionDeferred":  # the server is failing: the job waits, then goes on
        return "waiting for server"
    stage = event.data.get("stage")
    return stage if isinstance(stage, str) else EVENT_STAGES.get(event.type, current)


class ProgressBar:
    def __init__(
        self, out: TextIO, enabled: bool = True, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._out, self._enabled = out, enabled
        self._interpolator = Interpolator(clock)
        self._stage, self._drawn = "queued", ""
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="progress-bar", daemon=True)

    def __enter__(self) -> ProgressBar:
        if self._enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop ticking, draw the final state and end the line."""
        if not self._enabled or self._stopped.is_set():
            return
        self._stopped.set()
        self._thread.join()
        self._draw()
        print(file=self._out, flush=True)

    def on_event(self, event: JobEvent) -> None:
        with self._lock:
            self._stage = stage_of(event, self._stage)
            progress = event.data.get("progress")
            self._interpolator.on_server(progress if isinstance(progress, int | float) else 0)
            if event.type == "ConversionSucceeded":
                self._interpolator.on_complete()

    def on_state(self, job: dict) -> None:
        with self._lock:
            self._stage = job.get("stage") or self._stage
            progress = job.get("progress")
            self._interpolator.on_server(progress if isinstance(progress, int | float) else 0)

    def on_notice(self, text: str) -> None:
        if self._enabled:
            with self._lock:
                print(f"\n{text}", file=self._out, flush=True)
                self._drawn = ""

    def complete(self) -> None:
        with self._lock:
            self._interpolator.on_complete()

    def _run(self) -> None:
        while not self._stopped.wait(TICK_S):
            with self._lock:
                self._interpolator.tick()
            self._draw()

    def _draw(self) -> None:
        with self._lock:
            line = render(self._interpolator.displayed, self._stage)
            if line != self._drawn:
                self._out.write(line)
                self._out.flush()
                self._drawn = line
