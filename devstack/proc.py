"""Child processes: spawning into their own session, pid files, signalling and waiting."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class PidRecord:
    """A pid plus its kernel start time, so a reused pid is never mistaken for ours."""

    pid: int
    start_time: str

    @classmethod
    def of(cls, pid: int) -> PidRecord | None:
        start = _start_time(pid)
        return None if start is None else cls(pid, start)

    @classmethod
    def current(cls) -> PidRecord:
        """This very process."""
        return cls(os.getpid(), _start_time(os.getpid()) or "0")

    @classmethod
    def read(cls, path: Path) -> PidRecord | None:
        try:
            pid, start = path.read_text().split()
            return cls(int(pid), start)
        except (OSError, ValueError):
            return None

    def write(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(f"{self.pid} {self.start_time}\n")
        tmp.replace(path)

    def alive(self) -> bool:
        """True while this very process exists and is not a zombie."""
        return _start_time(self.pid) == self.start_time and not _is_zombie(self.pid)


@dataclass(frozen=True)
class RunAs:
    """Unprivileged identity for a child (PostgreSQL refuses to run as root)."""

    user: str = "nobody"
    group: str = "nogroup"


def log_line(msg: str, **fields: object) -> bytes:
    """The launcher's own line in a component's log: one JSON object, as the services write."""
    line = {
        "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "level": "info",
        "service": "devstack",
        "msg": msg,
        **fields,
    }
    return (json.dumps(line) + "\n").encode()


def run_once(argv: Sequence[str], *, cwd: Path, log_path: Path | None, run_as: RunAs | None = None) -> int:
    """Run argv to completion (output appended to log_path, or discarded); its exit code."""
    with open(log_path or os.devnull, "ab") as log:
        log.write(log_line("running", argv=list(argv)))
        log.flush()
        return subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            check=False,
            user=None if run_as is None else run_as.user,
            group=None if run_as is None else run_as.group,
            extra_groups=None if run_as is None else [],
        ).returncode


def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_path: Path,
    run_as: RunAs | None = None,
) -> subprocess.Popen[bytes]:
    """Start argv in its own session, stdout+stderr appended to log_path."""
    with log_path.open("ab") as log:
        log.write(log_line("starting", argv=list(argv)))
        log.flush()
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=dict(env),
            start_new_session=True,
            user=None if run_as is None else run_as.user,
            group=None if run_as is None else run_as.group,
            extra_groups=None if run_as is None else [],
        )


def signal_process(pid: int, sig: int, *, group: bool) -> bool:
    """Send sig to pid (or its whole process group); False when nothing received it."""
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def terminate(
    pid: int,
    *,
    sig: int,
    group: bool,
    timeout: float,
    popen: subprocess.Popen[bytes] | None = None,
) -> bool:
    """Send sig, wait up to timeout, then SIGKILL the group; True when it had to be killed."""
    signal_process(pid, sig, group=group)
    signal_process(pid, signal.SIGCONT, group=True)  # a SIGSTOPped process must run to handle sig
    exited = _wait_exit(pid, timeout, popen)
    if not exited:
        signal_process(pid, signal.SIGKILL, group=True)
        _wait_exit(pid, 10.0, popen)
    signal_process(pid, signal.SIGKILL, group=True)  # stragglers left in the group
    return not exited


def _wait_exit(pid: int, timeout: float, popen: subprocess.Popen[bytes] | None) -> bool:
    deadline = time.monotonic() + timeout
    record = PidRecord.of(pid)
    while time.monotonic() < deadline:
        if popen is not None and popen.poll() is not None:
            return True
        if popen is None and (record is None or not record.alive()):
            return True
        time.sleep(0.05)
    return False


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()


def _start_time(pid: int) -> str | None:
    fields = _stat_fields(pid)
    return None if fields is None else fields[19]


def _is_zombie(pid: int) -> bool:
    fields = _stat_fields(pid)
    return fields is None or fields[0] in ("Z", "X")
