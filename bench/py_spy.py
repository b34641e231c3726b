"""Where inside each Python component the CPU goes: py-spy samples taken while a burst runs.

Optional: py-spy is not one of the project's dependencies (install it where you like, e.g.
``python3 -m venv /tmp/pyspy && /tmp/pyspy/bin/pip install py-spy``, and pass its path). Each
component's main process is sampled without pausing it (``--nonblocking``), the MCP server with its
subprocesses (the conversion workers); only samples of a thread holding the GIL count (``--gil``), so
waits (epoll, pipes, locks) are left out and a sample is roughly a moment of Python-level CPU.
"""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from pathlib import Path
from types import TracebackType

RATE_HZ = 100


class Sampler:
    """``with Sampler(py_spy, {"api": pid, ...}, folder) as sampler:`` samples each pid meanwhile."""

    def __init__(self, binary: str, pids: dict[str, int], folder: Path) -> None:
        self.binary, self.pids, self.folder = binary, pids, folder
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def __enter__(self) -> Sampler:
        for name, pid in self.pids.items():
            command = [
                self.binary,
                "record",
                "--pid",
                str(pid),
                "--rate",
                str(RATE_HZ),
                "--nonblocking",
                "--gil",
            ]
            command += ["--format", "raw", "--nolineno", "--output", str(self._output(name))]
            if name == "mcp":
                command.append("--subprocesses")
            self.running[name] = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        for process in self.running.values():
            process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        for process in self.running.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    def _output(self, name: str) -> Path:
        return self.folder / f"py-spy-{name}.txt"

    def report(self, jobs: int, top: int = 5) -> str:
        """Per component, as shares of its samples: the packages and functions they were in (self time),
        and the innermost of the project's own functions on their stacks (what led there)."""
        lines = [f"py-spy: where each component's samples were ({RATE_HZ}/s while holding the GIL):"]
        for name in self.pids:
            stacks = _stacks(self._output(name))
            total = max(sum(stacks.values()), 1)
            leaves, packages, ours = Counter[str](), Counter[str](), Counter[str]()
            for frames, count in stacks.items():
                leaves[frames[-1]] += count
                packages[_package(frames[-1])] += count
                ours[next((f for f in reversed(frames) if _ours(f)), "(none of ours)")] += count
            label = "mcp (server and workers)" if name == "mcp" else name
            lines.append(
                f"  {label}: {sum(stacks.values())} samples, {sum(stacks.values()) / jobs:.1f} a job"
            )
            lines.append(
                "    packages: " + ", ".join(f"{p} {c / total:.0%}" for p, c in packages.most_common(8))
            )
            lines += [f"    {c / total:5.0%}  self   {f[:96]}" for f, c in leaves.most_common(top)]
            lines += [f"    {c / total:5.0%}  under  {f[:96]}" for f, c in ours.most_common(top)]
        return "\n".join(lines)


PROJECT = ("(services/", "(runtime/", "(contracts/")


def _ours(frame: str) -> bool:
    return any(part in frame for part in PROJECT)


def _package(frame: str) -> str:
    """``Client._read_loop (nats/aio/client.py)`` -> ``nats``."""
    where = frame.rpartition("(")[2].rstrip(")")
    return where.split("/", 1)[0] if "/" in where else where.removesuffix(".py")


def _stacks(path: Path) -> Counter[tuple[str, ...]]:
    """Samples per stack (outermost frame first), from py-spy's raw (collapsed stack) output."""
    stacks: Counter[tuple[str, ...]] = Counter()
    if not path.exists():
        return stacks
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[tuple(stack.split(";"))] += int(count)
    return stacks
